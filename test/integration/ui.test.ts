import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ROUTES, WEB_DIST } from '../../src/ui/index.js';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('the web console is served under a strict content security policy', () => {
  it('answers index.html with a CSP that allows no inline script or style and no framing', async () => {
    const res = await t.req('GET', '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(res.text).toContain('<div id="root">');
  });

  it('the build has no inline script or style: every script and stylesheet is a file under /assets', () => {
    const html = readFileSync(`${WEB_DIST}index.html`, 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/assets\//);
      expect(body?.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle="/);
    expect(html).not.toMatch(/\son[a-z]+="/);
  });

  it('serves the hashed assets as immutable files', async () => {
    const html = (await t.req('GET', '/')).text;
    const src = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(src).toBeDefined();
    const res = await t.req('GET', src!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect((await t.req('GET', '/assets/nope.js')).status).toBe(404);
  });

  it('answers index.html on every client route, and API 404s stay JSON', async () => {
    expect(CLIENT_ROUTES).toContain('/verify-email');
    for (const path of ['/', '/verify-email', '/reset-password', '/account', '/account/security', '/admin/users', '/admin/users/abc']) {
      const res = await t.req('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.text, path).toContain('<div id="root">');
    }
    const api = await t.req('GET', '/v1/nope');
    expect(api.status).toBe(404);
    expect(api.body).toMatchObject({ success: false, error: 'route.not_found' });
    const other = await t.req('GET', '/elsewhere');
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toMatch(/application\/json/);
  });
});
