import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress } from './addresses.js';

/** Why an outbound call did not produce a response. `reason` is safe to log and audit. */
export class OutboundError extends Error {
  override name = 'OutboundError';
  constructor(
    readonly reason: 'blocked_url' | 'blocked_address' | 'timeout' | 'too_large' | 'network',
    message: string,
  ) {
    super(message);
  }
}

export interface OutboundPolicy {
  /** `PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS`: allow http and loopback/private addresses (development, tests). */
  allowPrivateHosts: boolean;
  /** Whole-request deadline (connect, send, read). */
  timeoutMs: number;
  /** Largest response body read; a larger one fails the call (or is cut there, with `truncateResponse`). */
  maxResponseBytes: number;
  /**
   * Read at most `maxResponseBytes` of the body and answer with them instead of failing: for callers
   * that only need the status (webhook deliveries), a long answer is not an error.
   */
  truncateResponse?: boolean;
}

export const DEFAULT_OUTBOUND: Omit<OutboundPolicy, 'allowPrivateHosts'> = { timeoutMs: 5000, maxResponseBytes: 512 * 1024 };

export interface GuardedFetchInit {
  method?: string;
  headers?: Headers | Record<string, string> | [string, string][];
  body?: string | URLSearchParams | Uint8Array | null;
  signal?: AbortSignal | null;
}

/** A `fetch` for URLs that organization administrators configure (IdP issuers, token and userinfo endpoints, JWKS). */
export type GuardedFetch = (url: string | URL, init?: GuardedFetchInit) => Promise<Response>;

/**
 * Checks a configured URL before it is stored: `https` only (http too when private hosts are
 * allowed), no credentials in it, and an IP-literal host must be public. Host names are checked
 * again at connect time, after DNS, by the guarded fetch.
 */
export function checkOutboundUrl(raw: string, allowPrivateHosts: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('blocked_url', 'not a URL');
  }
  const okProtocol = url.protocol === 'https:' || (allowPrivateHosts && url.protocol === 'http:');
  if (!okProtocol) throw new OutboundError('blocked_url', `protocol ${url.protocol} not allowed`);
  if (url.username || url.password) throw new OutboundError('blocked_url', 'credentials in URL');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivateHosts) {
    if (isIP(host) && !isPublicAddress(host)) throw new OutboundError('blocked_url', 'non-public address');
    if (/^localhost$|\.localhost$|\.local$|\.internal$/i.test(host)) throw new OutboundError('blocked_url', 'local host name');
  }
  return url;
}

/**
 * DNS lookup that refuses any non-public address (unless allowed). It runs inside the socket
 * connect, so the address checked is the address used: no time-of-check/time-of-use gap for a
 * DNS-rebinding host.
 */
function guardedLookup(allowPrivateHosts: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const list = addresses ?? [];
      const bad = list.find((a) => !isPublicAddress(a.address));
      if (list.length === 0 || (!allowPrivateHosts && bad)) {
        const blocked = new OutboundError('blocked_address', `host ${hostname} resolves to a non-public address`);
        return callback(blocked as NodeJS.ErrnoException, '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, list);
      const first = list[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

function headerRecord(headers: GuardedFetchInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  const entries = headers instanceof Headers ? [...headers.entries()] : Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [k, v] of entries) out[k.toLowerCase()] = v;
  return out;
}

function bodyBytes(body: GuardedFetchInit['body']): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), 'utf8');
  return Buffer.from(body);
}

/**
 * The SSRF-safe fetch: URL policy, public-address DNS check at connect time, a whole-request
 * timeout, a response size limit, and no redirects followed (a 3xx is returned as is).
 */
export function createGuardedFetch(policy: OutboundPolicy): GuardedFetch {
  const lookup = guardedLookup(policy.allowPrivateHosts);
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      let url: URL;
      try {
        url = checkOutboundUrl(String(input), policy.allowPrivateHosts);
      } catch (err) {
        reject(err);
        return;
      }
      const host = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host) && !policy.allowPrivateHosts && !isPublicAddress(host)) {
        reject(new OutboundError('blocked_address', 'non-public address'));
        return;
      }
      const headers = headerRecord(init.headers);
      const body = bodyBytes(init.body);
      if (body) headers['content-length'] = String(body.length);
      headers['user-agent'] ??= 'portcullis';
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const req = send(url, { method: init.method ?? 'GET', headers, lookup, timeout: policy.timeoutMs }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > policy.maxResponseBytes && !policy.truncateResponse) {
          fail(new OutboundError('too_large', 'response too large'));
          return;
        }
        const finish = (): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const responseHeaders = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
            responseHeaders.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
          }
          const status = res.statusCode ?? 502;
          const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
          resolve(
            new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: responseHeaders }),
          );
        };
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= policy.maxResponseBytes) chunks.push(chunk);
          else if (!policy.truncateResponse) fail(new OutboundError('too_large', 'response too large'));
          else if (!settled) {
            // Keep what fits and answer with the status and the head of the body; the rest is not read.
            chunks.push(chunk.subarray(0, chunk.length - (size - policy.maxResponseBytes)));
            finish();
            req.destroy();
          }
        });
        res.on('error', (err) => fail(new OutboundError('network', err.message)));
        res.on('end', finish);
      });
      const timer = setTimeout(() => fail(new OutboundError('timeout', 'outbound request timed out')), policy.timeoutMs);
      req.on('timeout', () => fail(new OutboundError('timeout', 'outbound request timed out')));
      req.on('error', (err) => fail(err instanceof OutboundError ? err : new OutboundError('network', err.message)));
      if (init.signal) {
        if (init.signal.aborted) fail(new OutboundError('timeout', 'aborted'));
        else init.signal.addEventListener('abort', () => fail(new OutboundError('timeout', 'aborted')), { once: true });
      }
      req.end(body);
    });
}
