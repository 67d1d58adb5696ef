import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { BrowserContext } from 'playwright-core';
import { isPublicAddress } from '../../federation/index.js';

/** Schemes a page may load without a network connection. */
const LOCAL_SCHEMES = new Set(['data:', 'blob:', 'about:']);
const NETWORK_SCHEMES = new Set(['http:', 'https:', 'ws:', 'wss:']);
const LOCAL_NAMES = /^localhost$|\.localhost$|\.local$|\.internal$/i;

/**
 * Whether the runner's browser may load `raw`: the outbound policy of identity-provider fetches.
 * Network URLs must name a host whose every address is public (names are resolved here, before
 * Chromium connects); private, loopback and link-local destinations pass only with `allowPrivateHosts`.
 * Other schemes (file:, chrome:, ftp:, …) never pass.
 */
export function createOutboundCheck(allowPrivateHosts: boolean) {
  const cache = new Map<string, Promise<boolean>>();
  async function hostIsPublic(host: string): Promise<boolean> {
    if (isIP(host)) return isPublicAddress(host);
    if (LOCAL_NAMES.test(host)) return false;
    try {
      const addresses = await lookup(host, { all: true, verbatim: true });
      return addresses.length > 0 && addresses.every((a) => isPublicAddress(a.address));
    } catch {
      return false;
    }
  }
  return async function allowed(raw: string): Promise<boolean> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return false;
    }
    if (LOCAL_SCHEMES.has(url.protocol)) return true;
    if (!NETWORK_SCHEMES.has(url.protocol)) return false;
    if (url.username || url.password) return false;
    if (allowPrivateHosts) return true;
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    let verdict = cache.get(host);
    if (!verdict) {
      verdict = hostIsPublic(host);
      cache.set(host, verdict);
      // Why short-lived: a name's addresses change; a verdict is kept only for one page's burst of requests.
      setTimeout(() => cache.delete(host), 30_000).unref();
    }
    return verdict;
  };
}
export type OutboundCheck = ReturnType<typeof createOutboundCheck>;

/**
 * Applies the outbound policy to everything a browser context loads: navigations, redirects (each
 * hop is a new request), subresources, workers' fetches and WebSockets. Refusals are reported by
 * host only (a path or query may carry a secret).
 */
export async function guardContext(context: BrowserContext, allowed: OutboundCheck, onBlocked: (host: string) => void): Promise<void> {
  const hostOf = (raw: string) => {
    try {
      return new URL(raw).host;
    } catch {
      return 'invalid-url';
    }
  };
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (await allowed(url)) {
      await route.continue().catch(() => {});
    } else {
      onBlocked(hostOf(url));
      await route.abort('blockedbyclient').catch(() => {});
    }
  });
  await context.routeWebSocket(/.*/, async (ws) => {
    if (await allowed(ws.url())) {
      ws.connectToServer();
    } else {
      onBlocked(hostOf(ws.url()));
      await ws.close({ code: 1008, reason: 'blocked by policy' }).catch(() => {});
    }
  });
}
