import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import Type, { type StaticDecode, type TSchema } from 'typebox';
import { Secret } from '../crypto/index.js';
import { badProxyEntry, hasProtocol, isMasterKeyText, isProxyOff, isProxyWildcard, list, parseMasterKey, proxyList } from './values.js';

/**
 * What every option carries besides its type and `default`. The README's configuration table is
 * checked against these by `readme.test.ts`: one row per option, its default and its description.
 */
export type OptionMeta = {
  /** The environment variable that sets the option. */
  env: string;
  /** What the option does, for an operator: the README's "Meaning" column. */
  description: string;
  /** The README's "Default" column when the default is computed or absent (`(CPU count)`, `(off)`). */
  docDefault?: string;
};

/** An option that may be unset (its value is then `undefined`); the README says what unset means. */
type UnsetMeta = OptionMeta & { docDefault: string };

const integer = (meta: OptionMeta, def: number, minimum: number, maximum: number) =>
  Type.Integer({ ...meta, default: def, minimum, maximum });
const boolean = (meta: OptionMeta, def: boolean) => Type.Boolean({ ...meta, default: def });
const text = (meta: OptionMeta, def: string) => Type.String({ ...meta, default: def });
const unset = <T extends TSchema>(meta: UnsetMeta, value: T) => Type.Union([value, Type.Undefined()], meta);

/** A URL with one of `protocols`, refused with the variable's name otherwise. */
const url = (protocols: readonly string[], meta: OptionMeta | Record<never, never> = {}, def?: string) =>
  Type.Refine(
    Type.Refine(
      Type.String({ ...meta, ...(def === undefined ? {} : { default: def }) }),
      (s) => URL.canParse(s),
      () => 'is not a valid URL',
    ),
    (s) => hasProtocol(s, protocols),
    () => `must use ${protocols.join(' or ')}`,
  );

/** A comma-separated list (empty by default). */
const commaList = (meta: OptionMeta) => Type.Decode(Type.String({ ...meta, default: '' }), (s): readonly string[] => list(s));

/** A 32-byte key as 64 hex digits or base64; never echoed in an error. */
const masterKey = () =>
  Type.Decode(
    Type.Refine(Type.String(), isMasterKeyText, () => 'must be 32 bytes as base64 or hex'),
    (s) => parseMasterKey(s, 'the master key'),
  );

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every option of Portcullis: its variable, type, bounds, default and description, in one place.
 * `loadConfig` reads the environment against it, and {@link Config} is its decoded type. Each
 * option's TSDoc says what the code does with it; its `description` is the operator's README text.
 */
export const ConfigSchema = Type.Object({
  /** `production` applies the production rules (`production.ts`); any value but `production` or `test` is `development`. */
  env: Type.Decode(
    Type.String({
      env: 'NODE_ENV',
      default: 'development',
      description:
        "`production` refuses to start without a configured master key, with an `http://` public URL (unless `PORTCULLIS_ALLOW_INSECURE_PUBLIC_URL=true`), and with development values: private identity provider hosts, argon2 parameters below OWASP's minimum, a placeholder master key, an in-memory database.",
    }),
    (s): 'production' | 'development' | 'test' => (s === 'production' ? 'production' : s === 'test' ? 'test' : 'development'),
  ),
  /** TCP port of the HTTP API (0: any free port). */
  port: integer({ env: 'PORTCULLIS_PORT', description: 'TCP port of the HTTP API.' }, 8080, 0, 65535),
  /** Interface the HTTP API (and the inbound SMTP listener) bind to. */
  host: text({ env: 'PORTCULLIS_HOST', description: 'Interface to listen on.' }, '0.0.0.0'),
  /** Absolute path of the data directory (SQLite database, generated master key). */
  dataDir: Type.Decode(
    Type.String({
      env: 'PORTCULLIS_DATA_DIR',
      default: './data',
      description: 'SQLite database, generated master key file. Kept private: the directory 0700, the database, WAL and key files 0600.',
    }),
    (s) => resolve(s),
  ),
  /** `postgres://…` for PostgreSQL, otherwise SQLite at `<dataDir>/portcullis.db` (or `sqlite:<path>`). */
  databaseUrl: unset(
    {
      env: 'PORTCULLIS_DATABASE_URL',
      docDefault: '(SQLite in the data dir)',
      description: '`postgres://user@host:5432/db` for PostgreSQL; `sqlite:<path>` for another SQLite file.',
    },
    Type.Refine(
      Type.String(),
      (s) => /^(postgres|postgresql|sqlite):/.test(s),
      () => 'must start with postgres:// or sqlite:',
    ),
  ),
  /** Redis for shared state (rate limits, revocations, cache invalidations); unset, state is in-process. */
  redisUrl: unset(
    {
      env: 'PORTCULLIS_REDIS_URL',
      docDefault: '(in-process)',
      description: '`redis://host:6379` to share rate limits and revocations between instances.',
    },
    url(['redis:', 'rediss:']),
  ),
  /** Prefix of every shared-state key (rate limits included), so several deployments (or test runs) can share one Redis. */
  redisPrefix: text({ env: 'PORTCULLIS_REDIS_PREFIX', description: 'Prefix of every Redis key.' }, 'portcullis:'),
  /** The master key; unset, the key file is read (outside production, generated when absent). */
  masterKey: unset(
    {
      env: 'PORTCULLIS_MASTER_KEY',
      docDefault: '(key file)',
      description: '32 bytes, base64 or hex. Seals signing keys, vault data keys, IdP secrets and MFA secrets.',
    },
    masterKey(),
  ),
  /** File holding the master key; unset, `<dataDir>/master.key`. */
  masterKeyFile: unset(
    {
      env: 'PORTCULLIS_MASTER_KEY_FILE',
      docDefault: '<data dir>/master.key',
      description:
        'File holding the master key. Outside production it is generated (mode 0600) with a warning when absent; in production it must exist when no `PORTCULLIS_MASTER_KEY` is given.',
    },
    Type.String(),
  ),
  /** Previous master key, accepted for unwrapping while `keys rotate-master` runs. */
  previousMasterKey: unset(
    { env: 'PORTCULLIS_PREVIOUS_MASTER_KEY', docDefault: '(none)', description: 'The old master key while `keys rotate-master` runs.' },
    masterKey(),
  ),
  /** External base URL without a trailing slash: token issuer, cookie security, OAuth redirect URI. Its default follows the port. */
  publicUrl: Type.Decode(
    url(
      ['http:', 'https:'],
      {
        env: 'PORTCULLIS_PUBLIC_URL',
        docDefault: 'http://localhost:<port>',
        description: 'External base URL: token issuer, cookie security, OAuth redirect URI.',
      },
      'http://localhost:8080',
    ),
    (s) => s.replace(/\/+$/, ''),
  ),
  /** In production an `http://` public URL is refused unless this is true. */
  allowInsecurePublicUrl: boolean(
    {
      env: 'PORTCULLIS_ALLOW_INSECURE_PUBLIC_URL',
      description:
        'Let `NODE_ENV=production` start with an `http://` public URL (loopback addresses included): cookies and tokens then cross the network in clear.',
    },
    false,
  ),
  /** Origins allowed to make cookie-authenticated writes: the public URL's origin first, then the configured ones. */
  allowedOrigins: commaList({
    env: 'PORTCULLIS_ALLOWED_ORIGINS',
    docDefault: '(public URL)',
    description: 'Comma-separated origins allowed to make cookie-authenticated writes.',
  }),
  /** URL prefixes allowed as `returnTo`: the public URL first, then the configured ones. */
  allowedReturnUrls: commaList({
    env: 'PORTCULLIS_ALLOWED_RETURN_URLS',
    docDefault: '(public URL)',
    description: 'Comma-separated URL prefixes allowed as `returnTo` after a browser sign-in.',
  }),
  /** Outgoing mail transport; unset, mail is off (flows that need it answer `mail.not_configured`). */
  smtpUrl: unset(
    { env: 'PORTCULLIS_SMTP_URL', docDefault: '(mail off)', description: '`smtp://user:pass@host:port` for outgoing mail.' },
    url(['smtp:', 'smtps:']),
  ),
  /** `From` of outgoing mail. */
  smtpFrom: text({ env: 'PORTCULLIS_SMTP_FROM', description: 'Sender of outgoing mail.' }, 'Portcullis <no-reply@localhost>'),
  /** Port of the inbound SMTP listener for emailed 2FA codes; unset, the listener (and its modules) are not loaded. */
  smtpInboundPort: unset(
    {
      env: 'PORTCULLIS_SMTP_INBOUND_PORT',
      docDefault: '(off)',
      description: 'Port of the inbound SMTP listener that captures emailed 2FA codes.',
    },
    Type.Integer({ minimum: 0, maximum: 65535 }),
  ),
  /**
   * Largest message the inbound SMTP listener accepts, in bytes (default 512 KiB). Counted while the
   * message streams in: a larger one is answered `552` and neither kept nor parsed. 2FA mails are a
   * few kilobytes; the limit also bounds the memory one connection can hold (100 at once).
   */
  smtpInboundMaxBytes: integer(
    {
      env: 'PORTCULLIS_SMTP_INBOUND_MAX_BYTES',
      description: 'Largest inbound mail in bytes; a larger one is refused with 552 while it streams in, never parsed.',
    },
    524_288,
    16_384,
    64 * 1_048_576,
  ),
  /** How long an emailed 2FA code captured by the inbound listener stays readable, seconds. */
  vaultEmailCodeTtlSeconds: integer(
    { env: 'PORTCULLIS_VAULT_EMAIL_CODE_TTL', description: 'Seconds a captured 2FA email code stays readable.' },
    600,
    10,
    86_400,
  ),
  /** Vault reveals per minute for one caller (API key or user). */
  vaultRevealPerMinute: integer(
    { env: 'PORTCULLIS_VAULT_REVEAL_RATE', description: 'Vault secret reveals per minute for one API key or user.' },
    30,
    1,
    100_000,
  ),
  /**
   * The reverse proxies allowed to say who the client is through `X-Forwarded-For` (and `-Proto`,
   * `-Host`): IP addresses, CIDRs, or proxy-addr's `loopback`, `linklocal`, `uniquelocal`. The
   * client address is the nearest `X-Forwarded-For` entry not in this list. Empty (the default)
   * reads the socket's address and ignores the headers. The client address feeds the per-address
   * limits, sessions and the audit log. `true`, hop counts and `/0` are refused (see `values.ts`).
   */
  trustProxy: Type.Decode(
    Type.Refine(
      Type.Refine(
        Type.String({
          env: 'PORTCULLIS_TRUST_PROXY',
          default: 'off',
          docDefault: '(off)',
          description:
            'Comma-separated addresses/CIDRs of the reverse proxies trusted to set `X-Forwarded-For` (e.g. `10.0.0.0/8`; also `loopback`, `linklocal`, `uniquelocal`). The client address, which the per-address limits count, is then the nearest untrusted entry. Off: the header is ignored. `true`, hop counts and `/0` are refused.',
        }),
        (s) => isProxyOff(s) || !isProxyWildcard(s),
        (s) => `must list the proxies' addresses or CIDRs (e.g. 10.0.0.0/8); "${s}" would let clients choose their own address`,
      ),
      (s) => badProxyEntry(s) === undefined,
      (s) =>
        `must be a comma-separated list of IP addresses, CIDRs (prefix 1 or more), loopback, linklocal or uniquelocal; got "${badProxyEntry(s)}"`,
    ),
    (s): readonly string[] => proxyList(s),
  ),
  /**
   * Bearer token of the Prometheus scraper at `GET /metrics` (32 characters or more). Unset (the
   * default), metrics are neither collected nor served: `/metrics` is a 404.
   */
  metricsToken: unset(
    {
      env: 'PORTCULLIS_METRICS_TOKEN',
      docDefault: '(metrics off)',
      description: 'Bearer token (32+ characters) the Prometheus scraper sends to `GET /metrics`. Unset, `/metrics` does not exist (404).',
    },
    Type.Decode(
      Type.Refine(
        Type.String(),
        (s) => /^[\x21-\x7e]{32,512}$/.test(s),
        () => 'must be 32 to 512 printable characters without spaces (e.g. openssl rand -base64 32)',
      ),
      (s) => new Secret(s),
    ),
  ),
  /** Pino level of the server's JSON logs. */
  logLevel: Type.Enum(LOG_LEVELS, {
    env: 'PORTCULLIS_LOG_LEVEL',
    default: 'info',
    description: 'fatal, error, warn, info, debug, trace or silent.',
  }),
  /** Sign-in attempts per minute from one address; 0 turns the ceiling off. */
  loginRatePerIp: integer(
    {
      env: 'PORTCULLIS_LOGIN_RATE_PER_IP',
      description: 'Login attempts per minute from one address; 0 turns the per-address ceiling off.',
    },
    100,
    0,
    1_000_000,
  ),
  /** Largest request body, bytes; a larger one is a 413. */
  bodyLimitBytes: integer(
    { env: 'PORTCULLIS_BODY_LIMIT_BYTES', description: 'Largest accepted request body (413 above).' },
    1_048_576,
    1024,
    64 * 1_048_576,
  ),
  /** Event-loop delay (ms) above which requests are shed with 503; 0 turns shedding off. */
  maxEventLoopDelayMs: integer(
    {
      env: 'PORTCULLIS_MAX_EVENT_LOOP_DELAY_MS',
      description: 'Event-loop delay above which requests are shed with 503 (load shedding); 0 turns it off.',
    },
    2000,
    0,
    600_000,
  ),
  /** Argon2id parameters. Defaults are OWASP's (m=19456 KiB, t=2, p=1); production refuses less than OWASP's minimum. */
  argon2: Type.Object({
    /** Memory cost, KiB. */
    memoryKiB: integer({ env: 'PORTCULLIS_ARGON2_MEMORY_KIB', description: 'argon2id memory cost (OWASP).' }, 19_456, 8, 4_194_304),
    /** Iterations. */
    timeCost: integer({ env: 'PORTCULLIS_ARGON2_TIME_COST', description: 'argon2id iterations.' }, 2, 1, 100),
    /** Lanes. */
    parallelism: integer({ env: 'PORTCULLIS_ARGON2_PARALLELISM', description: 'argon2id lanes.' }, 1, 1, 64),
    /** Hashes running at once; the rest queue, so logins cannot starve the event loop's thread pool. */
    concurrency: integer(
      { env: 'PORTCULLIS_HASH_CONCURRENCY', docDefault: '(CPU count)', description: 'Password hashes running at once; others queue.' },
      availableParallelism(),
      1,
      256,
    ),
  }),
  /** The `aud` of access tokens: what a resource server checks to accept them (RFC 9068 §4). */
  tokenAudience: text(
    { env: 'PORTCULLIS_TOKEN_AUDIENCE', description: 'The `aud` claim of access tokens, which resource servers check.' },
    'portcullis',
  ),
  /** The `client_id` of access tokens from a Portcullis sign-in (RFC 9068 §2.2): the first-party client. */
  tokenClientId: text(
    {
      env: 'PORTCULLIS_TOKEN_CLIENT_ID',
      description: 'The `client_id` claim of access tokens issued by a Portcullis sign-in (the first-party client).',
    },
    'portcullis',
  ),
  /** Access token lifetime, seconds (`expiresIn`). */
  accessTokenTtlSeconds: integer({ env: 'PORTCULLIS_ACCESS_TOKEN_TTL', description: 'Access token lifetime, seconds.' }, 900, 30, 86_400),
  /** A session ends this long after sign-in however active it is, seconds. */
  sessionAbsoluteTtlSeconds: integer(
    { env: 'PORTCULLIS_SESSION_ABSOLUTE_TTL', description: 'Session absolute lifetime, seconds (7 days).' },
    604_800,
    60,
    31_536_000,
  ),
  /** A session ends after this long without a refresh, seconds. */
  sessionIdleTtlSeconds: integer(
    { env: 'PORTCULLIS_SESSION_IDLE_TTL', description: 'Session idle timeout, seconds (24 h).' },
    86_400,
    60,
    31_536_000,
  ),
  /** Consecutive failures per account before back-off starts. */
  loginFreeFailures: integer(
    { env: 'PORTCULLIS_LOGIN_FREE_FAILURES', description: 'Consecutive failures per account before back-off.' },
    5,
    1,
    1000,
  ),
  /** Longest back-off, seconds; it doubles from 1 s up to this. */
  loginBackoffMaxSeconds: integer(
    { env: 'PORTCULLIS_LOGIN_BACKOFF_MAX', description: 'Longest per-account back-off, seconds.' },
    900,
    1,
    86_400,
  ),
  /** An administrator's password set ends the user's sessions and API keys. */
  revokeSessionsOnPasswordSet: boolean(
    {
      env: 'PORTCULLIS_REVOKE_SESSIONS_ON_PASSWORD_SET',
      description: "An administrator setting a password revokes the user's sessions and API keys.",
    },
    true,
  ),
  /** Identity providers may be http and on private or loopback addresses (tests, development); refused in production. */
  idpAllowPrivateHosts: boolean(
    {
      env: 'PORTCULLIS_IDP_ALLOW_PRIVATE_HOSTS',
      description: 'Allow http and private/loopback addresses for identity providers (development only).',
    },
    false,
  ),
  /** Lifetime of a browser sign-in at an identity provider, from `/authorize` to `/oauth/callback`, seconds. */
  idpFlowTtlSeconds: integer(
    {
      env: 'PORTCULLIS_IDP_FLOW_TTL',
      description: 'Seconds a browser sign-in through an identity provider may take, from the redirect to the callback.',
    },
    600,
    60,
    3600,
  ),
  /** Outgoing webhooks (the webhooks domain): delivery, retries, circuit breaker, secret rotation. */
  webhooks: Type.Object({
    /** Endpoints may be http and on private or loopback addresses (tests, development); refused in production. */
    allowPrivateHosts: boolean(
      {
        env: 'PORTCULLIS_WEBHOOKS_ALLOW_PRIVATE_HOSTS',
        description: 'Allow http and private/loopback addresses for webhook endpoints (development and tests only).',
      },
      false,
    ),
    /** Whole-request deadline of one delivery attempt, milliseconds. */
    timeoutMs: integer(
      { env: 'PORTCULLIS_WEBHOOKS_TIMEOUT_MS', description: 'Milliseconds one webhook delivery attempt may take (connect, send, answer).' },
      10_000,
      100,
      60_000,
    ),
    /** First retry delay, milliseconds; each later one doubles, up to `retryMaxMs`. */
    retryBaseMs: integer(
      {
        env: 'PORTCULLIS_WEBHOOKS_RETRY_BASE_MS',
        description: 'Delay before the first webhook retry, milliseconds; each retry doubles it.',
      },
      5000,
      10,
      3_600_000,
    ),
    /** Longest delay between two attempts, milliseconds. */
    retryMaxMs: integer(
      { env: 'PORTCULLIS_WEBHOOKS_RETRY_MAX_MS', description: 'Longest delay between two webhook attempts, milliseconds.' },
      3_600_000,
      10,
      86_400_000,
    ),
    /** A delivery not accepted this long after its event is given up, seconds. */
    retryWindowSeconds: integer(
      {
        env: 'PORTCULLIS_WEBHOOKS_RETRY_WINDOW',
        description: 'Seconds a webhook delivery is retried before it is given up (marked failed).',
      },
      86_400,
      1,
      604_800,
    ),
    /** Failed attempts in a row that open an endpoint's circuit breaker. */
    breakerThreshold: integer(
      {
        env: 'PORTCULLIS_WEBHOOKS_BREAKER_THRESHOLD',
        description: 'Failed attempts in a row after which a webhook endpoint is paused (its circuit breaker opens).',
      },
      5,
      1,
      1000,
    ),
    /** How long an open breaker pauses the endpoint before one trial delivery (half-open), milliseconds. */
    breakerCooldownMs: integer(
      {
        env: 'PORTCULLIS_WEBHOOKS_BREAKER_COOLDOWN_MS',
        description: 'Milliseconds a paused webhook endpoint waits before one trial delivery (half-open); success closes the breaker.',
      },
      60_000,
      10,
      86_400_000,
    ),
    /** How long the previous secret keeps signing after a rotation, unless the request names another grace. */
    secretGraceSeconds: integer(
      {
        env: 'PORTCULLIS_WEBHOOKS_SECRET_GRACE',
        description:
          'Seconds the previous webhook secret keeps signing (beside the new one) after a rotation, unless the request says otherwise.',
      },
      86_400,
      0,
      604_800,
    ),
    /** How often each instance looks for due deliveries besides the wake-ups, milliseconds. */
    pollMs: integer(
      {
        env: 'PORTCULLIS_WEBHOOKS_POLL_MS',
        description: 'Milliseconds between two looks for due webhook deliveries (retries); new events wake every instance at once.',
      },
      2000,
      10,
      60_000,
    ),
  }),
  /** TOTP enrolment and the MFA step of sign-in (the MFA domain). */
  mfa: Type.Object({
    /** Lifetime of an `mfaTempToken`, seconds. */
    challengeTtlSeconds: integer(
      { env: 'PORTCULLIS_MFA_CHALLENGE_TTL', description: 'Seconds an `mfaTempToken` (the second step of a sign-in) stays usable.' },
      300,
      30,
      3600,
    ),
    /** Wrong codes an `mfaTempToken` survives; at this count it dies. */
    challengeMaxAttempts: integer(
      {
        env: 'PORTCULLIS_MFA_CHALLENGE_MAX_ATTEMPTS',
        description: 'Wrong codes one `mfaTempToken` takes; at this count it is spent and the sign-in starts again.',
      },
      5,
      1,
      100,
    ),
    /** Lifetime of a temporary secret from `regenerateTempMfaSecret` until it is confirmed, seconds. */
    pendingSecretTtlSeconds: integer(
      {
        env: 'PORTCULLIS_MFA_PENDING_SECRET_TTL',
        description: 'Seconds a new TOTP secret waits for its first code before enrolment must start again.',
      },
      600,
      60,
      86_400,
    ),
    /** `issuer` of the otpauth URI (shown by authenticator apps); the key URI format forbids a colon in it. */
    issuer: Type.Refine(
      Type.String({
        env: 'PORTCULLIS_MFA_ISSUER',
        default: 'Portcullis',
        description: 'Name authenticator apps show beside the account (the otpauth issuer).',
        minLength: 1,
        maxLength: 64,
      }),
      (s) => !s.includes(':'),
      () => 'must not contain a colon',
    ),
  }),
  /** Email verification and self-service password reset (the MFA domain's email flows). */
  emailFlow: Type.Object({
    /** Lifetime of a password reset token, seconds (the mail says it in minutes). */
    resetTokenTtlSeconds: integer(
      { env: 'PORTCULLIS_PASSWORD_RESET_TTL', description: 'Seconds a password reset token stays usable.' },
      1800,
      300,
      86_400,
    ),
    /** Lifetime of an email verification code, seconds (the mail says it in hours). */
    verifyTokenTtlSeconds: integer(
      { env: 'PORTCULLIS_EMAIL_VERIFY_TTL', description: 'Seconds an email verification code stays usable.' },
      86_400,
      3600,
      604_800,
    ),
    /** Reset requests per submitted identifier per window (known or not, so a 429 says nothing about existence). */
    resetRequestsPerAccount: integer(
      {
        env: 'PORTCULLIS_PASSWORD_RESET_RATE',
        description: 'Password reset requests per user name or email per window, whether the account exists or not.',
      },
      5,
      1,
      1000,
    ),
    /** Reset requests, reset attempts and verification attempts per address per window. */
    requestsPerIp: integer(
      {
        env: 'PORTCULLIS_MAIL_FLOW_RATE_PER_IP',
        description: 'Password reset requests and attempts and email verification attempts per address per window.',
      },
      60,
      1,
      100_000,
    ),
    /** Verification mails per user per window. */
    verifyMailsPerUser: integer(
      { env: 'PORTCULLIS_EMAIL_VERIFY_RATE', description: 'Verification mails per user per window.' },
      5,
      1,
      1000,
    ),
    /** The window of the three limits above, seconds. */
    windowSeconds: integer(
      { env: 'PORTCULLIS_MAIL_FLOW_WINDOW', description: 'Window of the password reset and email verification limits, seconds.' },
      900,
      60,
      86_400,
    ),
  }),
  /** The superadmin created on first start. */
  admin: Type.Object({
    /** User name of the bootstrap superadmin. */
    username: text({ env: 'PORTCULLIS_ADMIN_USERNAME', description: 'Bootstrap superadmin user name (first start only).' }, 'admin'),
    /** Email of the bootstrap superadmin, lower-cased. */
    email: unset(
      { env: 'PORTCULLIS_ADMIN_EMAIL', docDefault: '(none)', description: 'Bootstrap superadmin email.' },
      Type.Decode(Type.String(), (s) => s.toLowerCase()),
    ),
    /** Password of the bootstrap superadmin; unset, one is generated and printed once. */
    password: unset(
      { env: 'PORTCULLIS_ADMIN_PASSWORD', docDefault: '(generated, printed once)', description: 'Bootstrap superadmin password.' },
      Type.Decode(Type.String(), (s) => new Secret(s)),
    ),
  }),
});

/** The validated, decoded configuration: {@link ConfigSchema}'s type. `loadConfig` deep-freezes it. */
export type Config = StaticDecode<typeof ConfigSchema>;

/** Argon2id parameters. Defaults are OWASP's (m=19456 KiB, t=2, p=1). */
export type Argon2Config = Config['argon2'];

/** One option: where it sits in {@link Config}, and its schema (with the {@link OptionMeta} keywords and `default`). */
export interface ConfigOption {
  path: readonly string[];
  schema: TSchema & OptionMeta & { default?: unknown };
}

const isOption = (schema: TSchema): schema is ConfigOption['schema'] => typeof (schema as { env?: unknown }).env === 'string';

/** Every option of the schema, depth first, in declaration order. */
export function configOptions(schema: TSchema = ConfigSchema, path: readonly string[] = []): ConfigOption[] {
  if (isOption(schema)) return [{ path, schema }];
  const properties = (schema as { properties?: Record<string, TSchema> }).properties ?? {};
  return Object.entries(properties).flatMap(([key, child]) => configOptions(child, [...path, key]));
}

/** An option's default as the README shows it. */
export const documentedDefault = (option: ConfigOption): string => option.schema.docDefault ?? String(option.schema.default);
