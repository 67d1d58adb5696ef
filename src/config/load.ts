import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { Secret } from '../crypto/index.js';
import type { Config } from './schema.js';

/** A configuration value that cannot be used. The message names the variable, on one line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw === undefined) return def;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}`);
  }
  return raw;
}

/** Parses a 32-byte key given as base64, base64url or hex. */
export function parseMasterKey(raw: string, name: string): Secret<Buffer> {
  const text = raw.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length !== 32) throw new ConfigError(`${name} must be 32 bytes as base64 or hex`);
  return new Secret(key);
}

const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** True for an IP address or an `address/prefix` CIDR whose prefix fits the family (and is not 0). */
function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * `PORTCULLIS_TRUST_PROXY`: off, or the proxies' addresses. Why `true`, `/0` and hop counts are
 * refused: `true` (or a range holding every address) makes the client address the leftmost
 * `X-Forwarded-For` entry, which the client writes itself, so anyone could pick the address the
 * per-address limits count; a hop count cannot tell the proxy from a client that connects directly
 * (Fastify 5.12 ignores numeric `trustProxy` for that reason).
 */
function trustProxy(env: Env): string[] {
  const name = 'PORTCULLIS_TRUST_PROXY';
  const raw = str(env, name);
  if (raw === undefined || ['false', 'off', 'no', 'none', '0'].includes(raw.toLowerCase())) return [];
  if (['true', 'on', 'yes'].includes(raw.toLowerCase()) || /^\d+$/.test(raw)) {
    throw new ConfigError(
      `${name} must list the proxies' addresses or CIDRs (e.g. 10.0.0.0/8); "${raw}" would let clients choose their own address`,
    );
  }
  const entries = list(raw);
  const bad = entries.find((e) => !PROXY_RANGE_NAMES.has(e.toLowerCase()) && !isAddressOrCidr(e));
  if (bad !== undefined) {
    throw new ConfigError(
      `${name} must be a comma-separated list of IP addresses, CIDRs (prefix 1 or more), loopback, linklocal or uniquelocal; got "${bad}"`,
    );
  }
  return entries.map((e) => (PROXY_RANGE_NAMES.has(e.toLowerCase()) ? e.toLowerCase() : e));
}

/** `PORTCULLIS_METRICS_TOKEN`: long enough that guessing it over HTTP is hopeless, and a single token word. */
function metricsToken(env: Env): Secret | undefined {
  const raw = str(env, 'PORTCULLIS_METRICS_TOKEN');
  if (raw === undefined) return undefined;
  if (raw.length < 32 || raw.length > 512 || !/^[\x21-\x7e]+$/.test(raw)) {
    throw new ConfigError('PORTCULLIS_METRICS_TOKEN must be 32 to 512 printable characters without spaces (e.g. openssl rand -base64 32)');
  }
  return new Secret(raw);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Buffer.isBuffer(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

function list(raw: string | undefined): string[] {
  return raw
    ? raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

/** Reads and validates `PORTCULLIS_*` variables; throws `ConfigError` naming the first bad one. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Readonly<Config> {
  const nodeEnv = str(env, 'NODE_ENV');
  const appEnv: Config['env'] = nodeEnv === 'production' ? 'production' : nodeEnv === 'test' ? 'test' : 'development';
  const port = int(env, 'PORTCULLIS_PORT', 8080, 0, 65535);
  const dataDir = resolve(str(env, 'PORTCULLIS_DATA_DIR') ?? './data');
  const databaseUrl = str(env, 'PORTCULLIS_DATABASE_URL');
  if (databaseUrl && !/^(postgres|postgresql|sqlite):/.test(databaseUrl)) {
    throw new ConfigError('PORTCULLIS_DATABASE_URL must start with postgres:// or sqlite:');
  }
  const publicUrl = (url(env, 'PORTCULLIS_PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const logLevel = (str(env, 'PORTCULLIS_LOG_LEVEL') ?? 'info') as Config['logLevel'];
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`PORTCULLIS_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  const masterKeyRaw = str(env, 'PORTCULLIS_MASTER_KEY');
  const previousRaw = str(env, 'PORTCULLIS_PREVIOUS_MASTER_KEY');
  const inboundPort = str(env, 'PORTCULLIS_SMTP_INBOUND_PORT');
  const idpAllowPrivateHosts = bool(env, 'PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS', false);
  if (idpAllowPrivateHosts && appEnv === 'production') {
    throw new ConfigError('PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS cannot be true when NODE_ENV=production');
  }
  const adminPassword = str(env, 'PORTCULLIS_ADMIN_PASSWORD');
  const origin = new URL(publicUrl).origin;
  const config: Config = {
    env: appEnv,
    port,
    host: str(env, 'PORTCULLIS_HOST') ?? '0.0.0.0',
    dataDir,
    databaseUrl,
    redisUrl: url(env, 'PORTCULLIS_REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: str(env, 'PORTCULLIS_REDIS_PREFIX') ?? 'portcullis:',
    masterKey: masterKeyRaw ? parseMasterKey(masterKeyRaw, 'PORTCULLIS_MASTER_KEY') : undefined,
    masterKeyFile: str(env, 'PORTCULLIS_MASTER_KEY_FILE'),
    previousMasterKey: previousRaw ? parseMasterKey(previousRaw, 'PORTCULLIS_PREVIOUS_MASTER_KEY') : undefined,
    publicUrl,
    allowedOrigins: [origin, ...list(str(env, 'PORTCULLIS_ALLOWED_ORIGINS'))],
    allowedReturnUrls: [publicUrl, ...list(str(env, 'PORTCULLIS_ALLOWED_RETURN_URLS'))],
    smtpUrl: url(env, 'PORTCULLIS_SMTP_URL', ['smtp:', 'smtps:']),
    smtpFrom: str(env, 'PORTCULLIS_SMTP_FROM') ?? 'Portcullis <no-reply@localhost>',
    smtpInboundPort: inboundPort === undefined ? undefined : int(env, 'PORTCULLIS_SMTP_INBOUND_PORT', 0, 0, 65535),
    smtpInboundMaxBytes: int(env, 'PORTCULLIS_SMTP_INBOUND_MAX_BYTES', 524_288, 16_384, 64 * 1_048_576),
    logLevel,
    loginRatePerIp: int(env, 'PORTCULLIS_LOGIN_RATE_PER_IP', 100, 0, 1_000_000),
    trustProxy: trustProxy(env),
    metricsToken: metricsToken(env),
    bodyLimitBytes: int(env, 'PORTCULLIS_BODY_LIMIT_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    maxEventLoopDelayMs: int(env, 'PORTCULLIS_MAX_EVENT_LOOP_DELAY_MS', 2000, 0, 600_000),
    argon2: {
      memoryKiB: int(env, 'PORTCULLIS_ARGON2_MEMORY_KIB', 19_456, 8, 4_194_304),
      timeCost: int(env, 'PORTCULLIS_ARGON2_TIME_COST', 2, 1, 100),
      parallelism: int(env, 'PORTCULLIS_ARGON2_PARALLELISM', 1, 1, 64),
      concurrency: int(env, 'PORTCULLIS_HASH_CONCURRENCY', availableParallelism(), 1, 256),
    },
    accessTokenTtlSeconds: int(env, 'PORTCULLIS_ACCESS_TOKEN_TTL', 900, 30, 86_400),
    sessionAbsoluteTtlSeconds: int(env, 'PORTCULLIS_SESSION_ABSOLUTE_TTL', 604_800, 60, 31_536_000),
    sessionIdleTtlSeconds: int(env, 'PORTCULLIS_SESSION_IDLE_TTL', 86_400, 60, 31_536_000),
    loginFreeFailures: int(env, 'PORTCULLIS_LOGIN_FREE_FAILURES', 5, 1, 1000),
    loginBackoffMaxSeconds: int(env, 'PORTCULLIS_LOGIN_BACKOFF_MAX', 900, 1, 86_400),
    revokeSessionsOnPasswordSet: bool(env, 'PORTCULLIS_REVOKE_SESSIONS_ON_PASSWORD_SET', true),
    idpAllowPrivateHosts,
    vaultEmailCodeTtlSeconds: int(env, 'PORTCULLIS_VAULT_EMAIL_CODE_TTL', 600, 10, 86_400),
    vaultRevealPerMinute: int(env, 'PORTCULLIS_VAULT_REVEAL_RATE', 30, 1, 100_000),
    admin: {
      username: str(env, 'PORTCULLIS_ADMIN_USERNAME') ?? 'admin',
      email: str(env, 'PORTCULLIS_ADMIN_EMAIL')?.toLowerCase(),
      password: adminPassword ? new Secret(adminPassword) : undefined,
    },
    ...overrides,
  };
  return deepFreeze(config);
}
