import { isIP } from 'node:net';
import { Secret } from '../crypto/index.js';
import { ConfigError } from './config-error.js';

/** Splits a comma-separated variable into its trimmed, non-empty entries. */
export function list(raw: string): string[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** True when `text` parses as a URL whose protocol is one of `protocols` (`'https:'`, …). */
export function hasProtocol(text: string, protocols: readonly string[]): boolean {
  return URL.canParse(text) && protocols.includes(new URL(text).protocol);
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

/** True for text that {@link parseMasterKey} reads: 64 hex digits, or 43 base64/base64url characters (and an optional `=`). */
export function isMasterKeyText(raw: string): boolean {
  const text = raw.trim();
  return HEX_KEY.test(text) || BASE64_KEY.test(text);
}

/** Parses a 32-byte key given as base64, base64url or hex; `name` is what the error names (a variable or a file). */
export function parseMasterKey(raw: string, name: string): Secret<Buffer> {
  const text = raw.trim();
  let key: Buffer | undefined;
  if (HEX_KEY.test(text)) key = Buffer.from(text, 'hex');
  else if (BASE64_KEY.test(text)) key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length !== 32) throw new ConfigError(`${name} must be 32 bytes as base64 or hex`);
  return new Secret(key);
}

const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const PROXY_OFF = new Set(['', 'false', 'off', 'no', 'none', '0']);

/** True for an IP address or an `address/prefix` CIDR whose prefix fits the family (and is not 0). */
function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** `PORTCULLIS_TRUST_PROXY` turned off. */
export const isProxyOff = (raw: string): boolean => PROXY_OFF.has(raw.trim().toLowerCase());

/**
 * A `PORTCULLIS_TRUST_PROXY` that trusts everyone. Why `true`, `/0` and hop counts are refused:
 * `true` (or a range holding every address) makes the client address the leftmost `X-Forwarded-For`
 * entry, which the client writes itself, so anyone could pick the address the per-address limits
 * count; a hop count cannot tell the proxy from a client that connects directly (Fastify 5.12
 * ignores numeric `trustProxy` for that reason). `/0` is caught by {@link badProxyEntry}.
 */
export const isProxyWildcard = (raw: string): boolean =>
  ['true', 'on', 'yes'].includes(raw.trim().toLowerCase()) || /^\d+$/.test(raw.trim());

/** The first entry of a `PORTCULLIS_TRUST_PROXY` list that is neither an address, a CIDR nor a range name. */
export const badProxyEntry = (raw: string): string | undefined =>
  isProxyOff(raw) ? undefined : list(raw).find((e) => !PROXY_RANGE_NAMES.has(e.toLowerCase()) && !isAddressOrCidr(e));

/** The proxies of a valid `PORTCULLIS_TRUST_PROXY`, range names in lower case; empty when off. */
export const proxyList = (raw: string): string[] =>
  isProxyOff(raw) ? [] : list(raw).map((e) => (PROXY_RANGE_NAMES.has(e.toLowerCase()) ? e.toLowerCase() : e));
