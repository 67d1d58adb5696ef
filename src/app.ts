import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import cookie from '@fastify/cookie';
import swagger, { type SwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { type AuditService, createAuditDomain } from './audit/index.js';
import { type Config, loadMasterKeyring } from './config/index.js';
import { createPasswordHasher, type MasterKeyring, newId, type PasswordHasher } from './crypto/index.js';
import { createDirectoryDomain, type DirectoryService, ScimErrorSchema, type ScimService } from './directory/index.js';
import { AppError } from './errors/index.js';
import { createEventBus, type EventBus } from './events/index.js';
import { createFederationDomain, type IdpsService, type WorkloadService } from './federation/index.js';
import {
  type CredentialVerifiers,
  clientErrorHandler,
  ErrorBody,
  frameworkErrors,
  principalFromApiKey,
  registerErrorHandling,
  registerGuard,
  registerJsonParsers,
  registerMetrics,
  registerResponseHeaders,
  swaggerOptions,
} from './http/index.js';
import { type ApiKeysService, createIdentityDomain, type OrganizationsService, UserSchema, type UsersService } from './identity/index.js';
import { createMailer, type Mailer } from './mail/index.js';
import { createMfaDomain, type MfaDomain } from './mfa/index.js';
import { type ClientsService, createOidcDomain } from './oidc/index.js';
import { createPortabilityDomain, type PortabilityService } from './portability/index.js';
import {
  type AccountService,
  accountKey,
  createLoginThrottle,
  createSessionsDomain,
  identifierKey,
  type SessionsService,
  type SigningKeyStore,
} from './sessions/index.js';
import { createSharedState, type SharedState } from './state/index.js';
import { createStorage, type Storage } from './storage/index.js';
import { uiRoutes } from './ui/index.js';
import { createVaultDomain, type RunnerService, type VaultInbox, type VaultService } from './vault/index.js';
import { createWebhooksDomain, type WebhookDispatcher, type WebhooksService } from './webhooks/index.js';

const PACKAGE_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const HealthResponse = Type.Object({ status: Type.Literal('ok') }, { title: 'Health' });
const ReadinessResponse = Type.Object(
  {
    status: Type.Literal('ready'),
    database: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
    sharedState: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
  },
  { title: 'Readiness' },
);

export interface AppDeps {
  storage: Storage;
  state: SharedState;
  keyring: MasterKeyring;
  hasher: PasswordHasher;
  /** Where JSON logs go (tests capture them). Defaults to stdout. */
  logStream: Writable;
  /** Receives one-time bootstrap messages (the generated admin password). */
  announce: (message: string) => void;
  /** PostgreSQL schema for this app's tables (tests isolate each app). */
  pgSchema: string;
}

/** Every domain's services, composed once here: the CLI and the tests reach the running app through them. */
export interface Services {
  config: Config;
  storage: Storage;
  state: SharedState;
  keyring: MasterKeyring;
  hasher: PasswordHasher;
  mailer: Mailer;
  /** Lifecycle events in process, and broadcasts every instance hears. */
  events: EventBus;
  audit: AuditService;
  organizations: OrganizationsService;
  users: UsersService;
  apiKeys: ApiKeysService;
  keys: SigningKeyStore;
  sessions: SessionsService;
  account: AccountService;
  verifiers: CredentialVerifiers;
  vault: VaultService;
  /** The inbound SMTP listener for emailed 2FA codes, when `PORTCULLIS_SMTP_INBOUND_PORT` is set. */
  vaultInbox: VaultInbox | undefined;
  runner: RunnerService;
  /** Seed 003 (HelloID credentials). */
  directory: DirectoryService;
  /** SCIM 2.0 provisioning. */
  scim: ScimService;
  /** Import and export of users with their password hashes (issue 20). */
  portability: PortabilityService;
  /** Identity providers (federation domain). */
  idps: IdpsService;
  /** Workload identity token exchange (federation domain). */
  workload: WorkloadService;
  /** TOTP, recovery codes, the MFA sign-in step, email verification and password reset. */
  mfa: MfaDomain;
  /** Webhook endpoints, their delivery logs and secrets. */
  webhooks: WebhooksService;
  /** Sends the webhook outbox (runs while the server listens). */
  webhookDispatcher: WebhookDispatcher;
  /** OAuth clients of the OpenID Provider (and people's consents to them). */
  oauthClients: ClientsService;
}

export type App = FastifyInstance & { services: Services };

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.secret',
  '*.clientSecret',
  '*.token',
  '*.refreshToken',
  '*.accessToken',
  '*.code',
  '*.otpCode',
  '*.recoveryCode',
  '*.totpSecretKey',
];

/** Builds the whole application (migrated, bootstrapped) without listening. */
export async function buildApp(config: Config, partial: Partial<AppDeps> = {}): Promise<App> {
  const announce = partial.announce ?? ((m: string) => process.stdout.write(`${m}\n`));
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      ...(partial.logStream ? { stream: partial.logStream } : {}),
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : newId();
    },
    bodyLimit: config.bodyLimitBytes,
    clientErrorHandler,
    frameworkErrors,
    // Why: X-Forwarded-For is written by whoever sends the request; only the proxies that
    // PORTCULLIS_TRUST_PROXY names may set the client address the per-address limits count.
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    ajv: { customOptions: { allErrors: true, coerceTypes: true, removeAdditional: false } },
    routerOptions: { maxParamLength: 512, ignoreTrailingSlash: true },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const storage =
    partial.storage ??
    createStorage({ url: config.databaseUrl, dataDir: config.dataDir, ...(partial.pgSchema ? { pgSchema: partial.pgSchema } : {}) });
  await storage.migrate();
  const state = partial.state ?? createSharedState(config.redisUrl, config.redisPrefix);
  const keyring = partial.keyring ?? loadMasterKeyring(config, (path) => app.log.warn({ path }, 'generated a new master key; back it up'));
  const hasher = partial.hasher ?? createPasswordHasher(config.argon2);

  const mailer = createMailer(config);
  const log = app.log;
  const events = createEventBus({ state, log: log.child({ domain: 'events' }), afterCommit: storage.afterCommit });

  // The domains, in dependency order: each is built from what the ones before it answer.
  const webhooksDomain = createWebhooksDomain({ storage, config, keyring, events, log: log.child({ domain: 'webhooks' }) });
  const { audit, routes: auditRoutes } = createAuditDomain({ storage, events, sinks: [webhooksDomain.auditSink] });
  const webhooksWithAudit = webhooksDomain.withAudit(audit);
  const identity = createIdentityDomain({ storage, config, hasher, audit, events, log: log.child({ domain: 'identity' }) });
  const { organizations, users, apiKeys } = identity;
  const vaultDomain = await createVaultDomain({ storage, config, keyring, audit, state, log: log.child({ domain: 'vault' }) });
  const throttle = createLoginThrottle(state, {
    perIpPerMinute: config.loginRatePerIp,
    freeFailures: config.loginFreeFailures,
    maxBackoffSeconds: config.loginBackoffMaxSeconds,
  });
  const mfa = createMfaDomain({
    storage,
    keyring,
    users,
    organizations,
    throttle,
    audit,
    mailer,
    state,
    events,
    log: log.child({ domain: 'mfa' }),
    publicUrl: config.publicUrl,
    rpName: config.mfa.issuer,
    mfaOptions: config.mfa,
    emailOptions: config.emailFlow,
  });
  const federation = createFederationDomain({ storage, config, keyring, users, audit });
  const loginSteps = { ...mfa.loginSteps, idp: federation.loginStep };
  const sessionsDomain = await createSessionsDomain({
    storage,
    config,
    keyring,
    hasher,
    throttle,
    users,
    organizations,
    apiKeys,
    audit,
    events,
    log: log.child({ domain: 'sessions' }),
    loginSteps,
    accountExtensions: mfa.accountExtensions,
  });
  const { sessions, account, keys } = sessionsDomain;
  const federationRoutes = federation.withSessions(sessions, loginSteps);
  const accountKeys = (user: { id: string; userName: string; email: string | null }) => [
    accountKey(user.id),
    identifierKey(user.userName),
    ...(user.email ? [identifierKey(user.email)] : []),
  ];
  const directoryDomain = createDirectoryDomain({
    storage,
    config,
    users,
    organizations,
    audit,
    helloId: {
      lock: { isLocked: (user) => throttle.isThrottled(accountKeys(user)), unlock: (user) => throttle.succeed(accountKeys(user)) },
      resetMfa: async (ctx, user) => {
        await mfa.mfa.resetMfa(ctx, user.id);
      },
    },
  });
  const portabilityDomain = createPortabilityDomain({ config, users, audit });
  const verifiers: CredentialVerifiers = {
    accessToken: (token, via) => sessions.verifyAccessToken(token, via),
    apiKeySecret: (secret, via) => apiKeys.verifySecret(secret, via),
    apiKeyBasic: (key, secret) => apiKeys.verifyBasic(key, secret),
  };
  const oidcDomain = await createOidcDomain({
    storage,
    config,
    keys,
    users,
    sessions,
    audit,
    state,
    log: log.child({ domain: 'oidc' }),
    verifiers: () => verifiers,
  });
  await events.start();
  // The live browser sessions' CDP endpoint is a WebSocket upgrade, outside Fastify's routing: it takes the caller's API key.
  vaultDomain.live.attach(app.server, (headers) => principalFromApiKey(headers, verifiers));

  const services: Services = {
    config,
    storage,
    state,
    keyring,
    hasher,
    mailer,
    events,
    audit,
    organizations,
    users,
    apiKeys,
    keys,
    sessions,
    account,
    verifiers,
    vault: vaultDomain.vault,
    vaultInbox: vaultDomain.inbox,
    runner: vaultDomain.runner,
    directory: directoryDomain.directory,
    scim: directoryDomain.scim,
    portability: portabilityDomain.portability,
    idps: federation.idps,
    workload: federationRoutes.workload,
    mfa,
    webhooks: webhooksWithAudit.webhooks,
    webhookDispatcher: webhooksDomain.dispatcher,
    oauthClients: oidcDomain.clients,
  };

  await identity.bootstrap(announce);

  registerResponseHeaders(app);
  registerErrorHandling(app);
  registerJsonParsers(app);
  await app.register(cookie);
  // Why: the boot's own synchronous work (schema compilation, the password blocklist) lands in
  // under-pressure's first event-loop samples; on a busy machine that shed the first requests after
  // start as "overload" (503 on /healthz included). Shedding starts once the boot is out of the window.
  let shedFrom = Number.POSITIVE_INFINITY;
  app.addHook('onReady', async () => {
    shedFrom = Date.now() + 2500;
  });
  await app.register(underPressure, {
    maxEventLoopDelay: config.maxEventLoopDelayMs,
    exposeStatusRoute: false,
    pressureHandler: (_req, reply) => {
      if (Date.now() < shedFrom) return;
      reply
        .code(503)
        .send({ success: false, code: 14, message: 'The service is temporarily unavailable.', error: 'service.unavailable', status: 503 });
    },
  });
  registerGuard(app, config, () => verifiers);
  app.addSchema(ErrorBody);
  app.addSchema(ScimErrorSchema);
  app.addSchema(UserSchema);

  // The served document (GET /openapi.json): rules in src/http/openapi.ts.
  await app.register(swagger, swaggerOptions({ publicUrl: config.publicUrl, version: PACKAGE_VERSION }) as unknown as SwaggerOptions);
  // The documentation pages are public.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), auth: 'none' };
  });
  registerMetrics(app, config.metricsToken, events, webhooksDomain.metrics, [vaultDomain.runner.registerMetrics]);
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  app.get(
    '/healthz',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getHealth',
        tags: ['ops'],
        summary: 'Liveness',
        description: 'Answers 200 while the process serves requests; it reads no backing service.',
        response: { 200: HealthResponse },
      },
    },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getReadiness',
        tags: ['ops'],
        summary: 'Readiness',
        description: 'Pings the database: 200 with the backends in use, or 503 `service.unavailable` when the database cannot be reached.',
        response: { 200: ReadinessResponse },
      },
    },
    async () => {
      try {
        await storage.ping();
      } catch (cause) {
        throw new AppError('service.unavailable', { detail: 'database unreachable', cause });
      }
      return { status: 'ready' as const, database: storage.dialect, sharedState: state.kind };
    },
  );
  app.get('/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, async () => app.swagger());

  await app.register(identity.routes);
  await app.register(auditRoutes);
  await app.register(sessionsDomain.routes, { verifiers });
  await app.register(uiRoutes);
  await app.register(vaultDomain.routes);
  await app.register(directoryDomain.routes);
  await app.register(portabilityDomain.routes);
  await app.register(federationRoutes.routes);
  await app.register(mfa.routes);
  await app.register(webhooksWithAudit.routes);
  await app.register(oidcDomain.routes);
  await app.register(mfa.withSessions(sessions, config));
  app.addHook('onListen', vaultDomain.listen);
  // Only a serving instance sends webhooks (not the CLI's short-lived apps).
  app.addHook('onListen', async () => webhooksDomain.dispatcher.start());

  app.addHook('onClose', async () => {
    await webhooksDomain.dispatcher.stop();
    sessionsDomain.close();
    await vaultDomain.close();
    await events.stop();
    mailer.close();
    await state.close();
    await storage.close();
  });
  return Object.assign(app, { services }) as unknown as App;
}
