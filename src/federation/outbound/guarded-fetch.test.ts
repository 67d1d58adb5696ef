import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublicAddress } from './addresses.js';
import { checkOutboundUrl, createGuardedFetch, OutboundError } from './guarded-fetch.js';

describe('isPublicAddress', () => {
  it('refuses loopback, private, link-local, CGNAT, reserved and IPv4-embedding IPv6 forms', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '64:ff9b::7f00:1',
      '2002:7f00:1::',
      'not-an-ip',
    ]) {
      expect(isPublicAddress(a), a).toBe(false);
    }
  });
  it('accepts public unicast addresses', () => {
    for (const a of ['8.8.8.8', '140.82.112.3', '2606:4700:4700::1111', '::ffff:8.8.8.8']) expect(isPublicAddress(a), a).toBe(true);
  });
});

describe('checkOutboundUrl', () => {
  it('allows only https to public hosts by default', () => {
    expect(checkOutboundUrl('https://token.actions.githubusercontent.com', false).hostname).toBe('token.actions.githubusercontent.com');
    for (const bad of [
      'http://op.example',
      'ftp://op.example',
      'https://127.0.0.1/',
      'https://[::1]/',
      'https://169.254.169.254/latest',
      'https://localhost/',
      'https://user:pw@op.example/',
      'nonsense',
    ]) {
      expect(() => checkOutboundUrl(bad, false), bad).toThrow(OutboundError);
    }
  });
  it('allows http and private hosts when configured (development)', () => {
    expect(checkOutboundUrl('http://127.0.0.1:8080', true).port).toBe('8080');
    expect(() => checkOutboundUrl('file:///etc/passwd', true)).toThrow(OutboundError);
  });
});

describe('createGuardedFetch', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/big') {
        res.end('x'.repeat(10_000));
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2000);
      } else if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/' });
        res.end();
      } else {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization ?? null }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('refuses loopback (literal or resolved) unless private hosts are allowed', async () => {
    const strict = createGuardedFetch({ allowPrivateHosts: false, timeoutMs: 1000, maxResponseBytes: 1000 });
    await expect(strict(`${base}/`)).rejects.toMatchObject({ reason: 'blocked_url' });
    const relaxedProtocolOnly = createGuardedFetch({ allowPrivateHosts: false, timeoutMs: 1000, maxResponseBytes: 1000 });
    await expect(relaxedProtocolOnly('https://localhost.:1/')).rejects.toBeInstanceOf(OutboundError);
  });

  it('fetches when allowed, with headers, and does not follow redirects', async () => {
    const f = createGuardedFetch({ allowPrivateHosts: true, timeoutMs: 1000, maxResponseBytes: 1000 });
    const res = await f(`${base}/`, { method: 'POST', headers: { authorization: 'Bearer x' }, body: 'a=b' });
    expect(await res.json()).toEqual({ method: 'POST', auth: 'Bearer x' });
    const redirect = await f(`${base}/redirect`);
    expect(redirect.status).toBe(302);
  });

  it('reads at most the limit and answers with the status when truncation is asked for (webhooks)', async () => {
    const f = createGuardedFetch({ allowPrivateHosts: true, timeoutMs: 1000, maxResponseBytes: 1000, truncateResponse: true });
    const res = await f(`${base}/big`);
    expect(res.status).toBe(200);
    expect((await res.text()).length).toBe(1000);
  });

  it('enforces the size limit and the timeout', async () => {
    const f = createGuardedFetch({ allowPrivateHosts: true, timeoutMs: 300, maxResponseBytes: 1000 });
    await expect(f(`${base}/big`)).rejects.toMatchObject({ reason: 'too_large' });
    await expect(f(`${base}/slow`)).rejects.toMatchObject({ reason: 'timeout' });
  });
});
