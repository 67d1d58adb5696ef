import type { Argon2Params, Secret } from '../crypto/index.js';

/** Argon2id parameters. Defaults are OWASP's (m=19456 KiB, t=2, p=1). */
/** argon2id parameters (the crypto module's `Argon2Params`). */
export type Argon2Config = Argon2Params;

export interface Config {
  /** `production` refuses development shortcuts (e.g. private IdP hosts). */
  env: 'production' | 'development' | 'test';
  port: number;
  host: string;
  dataDir: string;
  /** `postgres://…` for PostgreSQL, otherwise SQLite at `<dataDir>/portcullis.db` (or `sqlite:<path>`). */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** Prefix for every shared-state key, so several deployments (or test runs) can share one Redis. */
  redisPrefix: string;
  masterKey: Secret<Buffer> | undefined;
  masterKeyFile: string | undefined;
  /** Previous master key, accepted for unwrapping while `keys rotate-master` runs. */
  previousMasterKey: Secret<Buffer> | undefined;
  publicUrl: string;
  allowedOrigins: readonly string[];
  allowedReturnUrls: readonly string[];
  smtpUrl: string | undefined;
  smtpFrom: string;
  smtpInboundPort: number | undefined;
  /**
   * Largest message the inbound SMTP listener accepts, in bytes (default 512 KiB). Counted while the
   * message streams in: a larger one is answered `552` and neither kept nor parsed. 2FA mails are a
   * few kilobytes; the limit also bounds the memory one connection can hold (100 at once).
   */
  smtpInboundMaxBytes: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  loginRatePerIp: number;
  /**
   * The reverse proxies allowed to say who the client is through `X-Forwarded-For` (and `-Proto`,
   * `-Host`): IP addresses, CIDRs, or proxy-addr's `loopback`, `linklocal`, `uniquelocal`. The
   * client address is the nearest `X-Forwarded-For` entry not in this list. Empty (the default)
   * reads the socket's address and ignores the headers. The client address feeds the per-address
   * limits, sessions and the audit log.
   */
  trustProxy: readonly string[];
  /**
   * Bearer token of the Prometheus scraper at `GET /metrics` (32 characters or more). Unset (the
   * default), metrics are neither collected nor served: `/metrics` is a 404.
   */
  metricsToken: Secret | undefined;
  bodyLimitBytes: number;
  /** Event-loop delay (ms) above which requests are shed with 503; 0 turns shedding off. */
  maxEventLoopDelayMs: number;
  argon2: Argon2Config;
  accessTokenTtlSeconds: number;
  sessionAbsoluteTtlSeconds: number;
  sessionIdleTtlSeconds: number;
  /** Consecutive failures per account before back-off starts. */
  loginFreeFailures: number;
  loginBackoffMaxSeconds: number;
  revokeSessionsOnPasswordSet: boolean;
  idpAllowPrivateHosts: boolean;
  /** How long an emailed 2FA code captured by the inbound listener stays readable, seconds. */
  vaultEmailCodeTtlSeconds: number;
  /** Vault reveals per minute for one caller (API key or user). */
  vaultRevealPerMinute: number;
  admin: {
    username: string;
    email: string | undefined;
    password: Secret | undefined;
  };
}

/** One documented environment variable. The README's configuration table is generated from this list. */
export interface OptionDoc {
  env: string;
  default: string;
  description: string;
}

export const OPTION_DOCS: readonly OptionDoc[] = [
  { env: 'PORTCULLIS_PORT', default: '8080', description: 'TCP port of the HTTP API.' },
  { env: 'PORTCULLIS_HOST', default: '0.0.0.0', description: 'Interface to listen on.' },
  {
    env: 'PORTCULLIS_DATA_DIR',
    default: './data',
    description: 'SQLite database, generated master key file. Kept private: the directory 0700, the database, WAL and key files 0600.',
  },
  {
    env: 'PORTCULLIS_DATABASE_URL',
    default: '(SQLite in the data dir)',
    description: '`postgres://user@host:5432/db` for PostgreSQL; `sqlite:<path>` for another SQLite file.',
  },
  {
    env: 'PORTCULLIS_REDIS_URL',
    default: '(in-process)',
    description: '`redis://host:6379` to share rate limits and revocations between instances.',
  },
  { env: 'PORTCULLIS_REDIS_PREFIX', default: 'portcullis:', description: 'Prefix of every Redis key.' },
  {
    env: 'PORTCULLIS_MASTER_KEY',
    default: '(key file)',
    description: '32 bytes, base64 or hex. Seals signing keys, vault data keys, IdP secrets and MFA secrets.',
  },
  {
    env: 'PORTCULLIS_MASTER_KEY_FILE',
    default: '<data dir>/master.key',
    description: 'File holding the master key; generated (mode 0600) with a warning when absent.',
  },
  { env: 'PORTCULLIS_PREVIOUS_MASTER_KEY', default: '(none)', description: 'The old master key while `keys rotate-master` runs.' },
  {
    env: 'PORTCULLIS_PUBLIC_URL',
    default: 'http://localhost:<port>',
    description: 'External base URL: token issuer, cookie security, OAuth redirect URI.',
  },
  {
    env: 'PORTCULLIS_ALLOWED_ORIGINS',
    default: '(public URL)',
    description: 'Comma-separated origins allowed to make cookie-authenticated writes.',
  },
  {
    env: 'PORTCULLIS_ALLOWED_RETURN_URLS',
    default: '(public URL)',
    description: 'Comma-separated URL prefixes allowed as `returnTo` after a browser sign-in.',
  },
  { env: 'PORTCULLIS_SMTP_URL', default: '(mail off)', description: '`smtp://user:pass@host:port` for outgoing mail.' },
  { env: 'PORTCULLIS_SMTP_FROM', default: 'Portcullis <no-reply@localhost>', description: 'Sender of outgoing mail.' },
  {
    env: 'PORTCULLIS_SMTP_INBOUND_PORT',
    default: '(off)',
    description: 'Port of the inbound SMTP listener that captures emailed 2FA codes.',
  },
  {
    env: 'PORTCULLIS_SMTP_INBOUND_MAX_BYTES',
    default: '524288',
    description: 'Largest inbound mail in bytes; a larger one is refused with 552 while it streams in, never parsed.',
  },
  { env: 'PORTCULLIS_VAULT_EMAIL_CODE_TTL', default: '600', description: 'Seconds a captured 2FA email code stays readable.' },
  { env: 'PORTCULLIS_VAULT_REVEAL_RATE', default: '30', description: 'Vault secret reveals per minute for one API key or user.' },
  { env: 'PORTCULLIS_LOG_LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent.' },
  {
    env: 'PORTCULLIS_LOGIN_RATE_PER_IP',
    default: '100',
    description: 'Login attempts per minute from one address; 0 turns the per-address ceiling off.',
  },
  {
    env: 'PORTCULLIS_TRUST_PROXY',
    default: '(off)',
    description:
      'Comma-separated addresses/CIDRs of the reverse proxies trusted to set `X-Forwarded-For` (e.g. `10.0.0.0/8`; also `loopback`, `linklocal`, `uniquelocal`). The client address, which the per-address limits count, is then the nearest untrusted entry. Off: the header is ignored. `true`, hop counts and `/0` are refused.',
  },
  {
    env: 'PORTCULLIS_METRICS_TOKEN',
    default: '(metrics off)',
    description: 'Bearer token (32+ characters) the Prometheus scraper sends to `GET /metrics`. Unset, `/metrics` does not exist (404).',
  },
  { env: 'PORTCULLIS_BODY_LIMIT_BYTES', default: '1048576', description: 'Largest accepted request body (413 above).' },
  {
    env: 'PORTCULLIS_MAX_EVENT_LOOP_DELAY_MS',
    default: '2000',
    description: 'Event-loop delay above which requests are shed with 503 (load shedding); 0 turns it off.',
  },
  { env: 'PORTCULLIS_ARGON2_MEMORY_KIB', default: '19456', description: 'argon2id memory cost (OWASP).' },
  { env: 'PORTCULLIS_ARGON2_TIME_COST', default: '2', description: 'argon2id iterations.' },
  { env: 'PORTCULLIS_ARGON2_PARALLELISM', default: '1', description: 'argon2id lanes.' },
  { env: 'PORTCULLIS_HASH_CONCURRENCY', default: '(CPU count)', description: 'Password hashes running at once; others queue.' },
  { env: 'PORTCULLIS_ACCESS_TOKEN_TTL', default: '900', description: 'Access token lifetime, seconds.' },
  { env: 'PORTCULLIS_SESSION_ABSOLUTE_TTL', default: '604800', description: 'Session absolute lifetime, seconds (7 days).' },
  { env: 'PORTCULLIS_SESSION_IDLE_TTL', default: '86400', description: 'Session idle timeout, seconds (24 h).' },
  { env: 'PORTCULLIS_LOGIN_FREE_FAILURES', default: '5', description: 'Consecutive failures per account before back-off.' },
  { env: 'PORTCULLIS_LOGIN_BACKOFF_MAX', default: '900', description: 'Longest per-account back-off, seconds.' },
  {
    env: 'PORTCULLIS_REVOKE_SESSIONS_ON_PASSWORD_SET',
    default: 'true',
    description: "An administrator setting a password revokes the user's sessions.",
  },
  {
    env: 'PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS',
    default: 'false',
    description: 'Allow http and private/loopback addresses for identity providers (development only).',
  },
  { env: 'PORTCULLIS_ADMIN_USERNAME', default: 'admin', description: 'Bootstrap superadmin user name (first start only).' },
  { env: 'PORTCULLIS_ADMIN_PASSWORD', default: '(generated, printed once)', description: 'Bootstrap superadmin password.' },
  { env: 'PORTCULLIS_ADMIN_EMAIL', default: '(none)', description: 'Bootstrap superadmin email.' },
  { env: 'NODE_ENV', default: 'development', description: '`production` enables production checks.' },
];
