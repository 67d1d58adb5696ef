import type { Writable } from 'node:stream';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyInstance } from 'fastify';
import { auditRoutes } from './audit/audit.routes.js';
import { type AuditService, createAuditService } from './audit/audit.service.js';
import type { Config } from './config/index.js';
import { createPasswordHasher, loadMasterKeyring, type MasterKeyring, newId, type PasswordHasher } from './crypto/index.js';
import {
  createDirectoryService,
  createScimRepo,
  createScimService,
  type DirectoryService,
  directoryRoutes,
  type ScimService,
} from './directory/index.js';
import { AppError } from './errors/index.js';
import { createFederation, exchangeTokenRoutes, type IdpsService, idpRoutes, type WorkloadService } from './federation/index.js';
import { registerJsonParsers } from './http/content-types.js';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './http/error-handler.js';
import { type CredentialVerifiers, registerGuard } from './http/guard.js';
import { registerMetrics } from './http/metrics.js';
import { registerResponseHeaders } from './http/response-headers.js';
import { ErrorBody } from './http/schemas.js';
import './http/types.js';
import { createApiKeysRepo } from './identity/api-keys/api-keys.repo.js';
import { type ApiKeysService, createApiKeysService } from './identity/api-keys/api-keys.service.js';
import { bootstrap } from './identity/bootstrap.js';
import { identityRoutes } from './identity/identity.routes.js';
import { UserSchema } from './identity/identity.schemas.js';
import { createOrganizationsRepo } from './identity/organizations/organizations.repo.js';
import { createOrganizationsService, type OrganizationsService } from './identity/organizations/organizations.service.js';
import { preloadPasswordBlocklist } from './identity/password-policy.js';
import { createUsersRepo } from './identity/users/users.repo.js';
import { createUsersService, type PasswordSetHook, type RevokeAccess, type UsersService } from './identity/users/users.service.js';
import { createMailer, type Mailer } from './mail/mailer.js';
import { createMfaDomain, type MfaDomain, mfaRoutes } from './mfa/index.js';
import { type AccountSeams, type AccountService, createAccountService, usersNamedBy } from './sessions/account.service.js';
import { createSessionsRepo } from './sessions/sessions.repo.js';
import { authRoutes, sessionRoutes } from './sessions/sessions.routes.js';
import { createSessionsService, type LoginSeams, type SessionsService } from './sessions/sessions.service.js';
import { createSigningKeyStore, type SigningKeyStore } from './sessions/signing-keys.js';
import { createLoginThrottle } from './sessions/throttle.js';
import { createTokenIssuer } from './sessions/tokens.js';
import { createSharedState, type SharedState } from './state/index.js';
import { createStorage, type Storage } from './storage/index.js';
import { uiRoutes } from './ui/ui.routes.js';
import { createVaultService, type VaultInbox, type VaultService, vaultRoutes } from './vault/index.js';

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

/** Every domain service, wired once here. Routes receive this object. */
export interface Services {
  config: Config;
  storage: Storage;
  state: SharedState;
  keyring: MasterKeyring;
  hasher: PasswordHasher;
  mailer: Mailer;
  audit: AuditService;
  organizations: OrganizationsService;
  users: UsersService;
  apiKeys: ApiKeysService;
  keys: SigningKeyStore;
  sessions: SessionsService;
  account: AccountService;
  /** Hooks of `POST /v1/auth/login` and `POST /v1/auth/user` that the MFA and IdP domains fill in. */
  loginSeams: LoginSeams;
  accountSeams: AccountSeams;
  /** Ends a user's sessions and API keys (deactivation, demotion, an administrator's password set). */
  revokeAccess: RevokeAccess[];
  verifiers: CredentialVerifiers;
  vault: VaultService;
  /** The inbound SMTP listener for emailed 2FA codes, when `PORTCULLIS_SMTP_INBOUND_PORT` is set. */
  vaultInbox: VaultInbox | undefined;
  /** Seed 003 (HelloID credentials). */
  directory: DirectoryService;
  /** SCIM 2.0 provisioning. */
  scim: ScimService;
  /** Identity providers (federation domain). */
  idps: IdpsService;
  /** Workload identity token exchange (federation domain). */
  workload: WorkloadService;
  /** Run after a password is set by an administrator or changed by its user. */
  onPasswordSet: PasswordSetHook[];
  /** TOTP, recovery codes, the MFA sign-in step, email verification and password reset. */
  mfa: MfaDomain;
}

export type App = FastifyInstance & { services: Services };

const ACCOUNT_CHANGED = 'account.changed';

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
  preloadPasswordBlocklist();

  const mailer = createMailer(config);
  const db = storage.db;
  // Every audited change that names a user drops that user's cached account view, on every instance.
  let account: AccountService | undefined;
  const audit = createAuditService({
    db,
    onEvent: (event) => {
      const ids = usersNamedBy(event);
      if (ids.length === 0) return;
      account?.invalidate(ids);
      state.publish(ACCOUNT_CHANGED, JSON.stringify(ids)).catch(() => {});
    },
  });
  const organizations = createOrganizationsService({ repo: createOrganizationsRepo(db), audit });
  const revokeAccess: RevokeAccess[] = [];
  const usersRepo = createUsersRepo(db);
  const onPasswordSet: PasswordSetHook[] = [];
  const users = createUsersService({
    db,
    repo: usersRepo,
    organizations,
    hasher,
    audit,
    revokeAccess,
    onPasswordSet,
    revokeOnPasswordSet: config.revokeSessionsOnPasswordSet,
  });
  const apiKeys = createApiKeysService({ repo: createApiKeysRepo(db), users: users.lookup, audit, state });
  await apiKeys.start();
  revokeAccess.push((ctx, userId) => apiKeys.revokeAllForOwner(ctx, userId));
  const vault = createVaultService({
    db,
    keyring,
    audit,
    state,
    emailCodeTtlSeconds: config.vaultEmailCodeTtlSeconds,
    revealPerMinute: config.vaultRevealPerMinute,
  });
  const vaultInbox =
    config.smtpInboundPort === undefined
      ? undefined
      : // Loaded only when configured: the SMTP server and MIME parser weigh ~40 MB of memory.
        (await import('./vault/inbox/inbox.server.js')).createVaultInbox({
          acceptsRecipient: vault.acceptsRecipient,
          deliverEmail: vault.deliverEmail,
          log: app.log,
          maxMessageBytes: config.smtpInboundMaxBytes,
        });

  const keys = createSigningKeyStore({ db, keyring, accessTokenTtlSeconds: config.accessTokenTtlSeconds });
  await keys.init();
  const loginSeams: LoginSeams = {};
  const accountSeams: AccountSeams = {};
  const throttle = createLoginThrottle(state, {
    perIpPerMinute: config.loginRatePerIp,
    freeFailures: config.loginFreeFailures,
    maxBackoffSeconds: config.loginBackoffMaxSeconds,
  });
  const sessions = createSessionsService({
    config,
    repo: createSessionsRepo(db),
    users,
    organizations,
    hasher,
    tokens: createTokenIssuer({ keys, issuer: config.publicUrl, ttlSeconds: config.accessTokenTtlSeconds }),
    throttle,
    state,
    audit,
    seams: loginSeams,
  });
  await sessions.start();
  revokeAccess.push((ctx, userId, reason) => sessions.revokeAllForUser(ctx, userId, reason).then(() => {}));
  account = createAccountService({ users, apiKeys, seams: accountSeams });
  const unsubscribeAccount = await state.subscribe(ACCOUNT_CHANGED, (message) => {
    try {
      const ids = JSON.parse(message) as unknown;
      if (Array.isArray(ids)) account?.invalidate(ids.filter((v): v is string => typeof v === 'string'));
    } catch {
      // ignore malformed messages
    }
  });
  const directory = createDirectoryService({ users, organizations });
  const scim = createScimService({ repo: createScimRepo(db), users, audit, baseUrl: `${config.publicUrl.replace(/\/$/, '')}/scim/v2` });
  const federation = createFederation({ db, config, keyring, users, sessions, audit });
  loginSeams.idp = (ctx, input) => federation.idps.login(ctx, input);
  const mfa = createMfaDomain({
    db,
    keyring,
    users,
    organizations,
    sessions,
    audit,
    mailer,
    state,
    publicUrl: config.publicUrl,
    mfaOptions: config.mfa,
    emailOptions: config.emailFlow,
    // Only the kind and the transport's message: never the mail (it may hold a token).
    onMailError: (err, kind) =>
      app.log.warn({ mailKind: kind, reason: err instanceof Error ? err.message : 'unknown' }, 'mail delivery failed'),
  });
  Object.assign(loginSeams, mfa.loginSeams);
  Object.assign(accountSeams, mfa.accountSeams);
  onPasswordSet.push(mfa.onPasswordSet);

  const services: Services = {
    config,
    storage,
    state,
    keyring,
    hasher,
    mailer,
    audit,
    organizations,
    users,
    apiKeys,
    keys,
    sessions,
    account,
    loginSeams,
    accountSeams,
    revokeAccess,
    verifiers: {
      accessToken: (token, via) => sessions.verifyAccessToken(token, via),
      apiKeySecret: (secret, via) => apiKeys.verifySecret(secret, via),
      apiKeyBasic: (key, secret) => apiKeys.verifyBasic(key, secret),
    },
    vault,
    vaultInbox,
    directory,
    scim,
    idps: federation.idps,
    workload: federation.workload,
    onPasswordSet,
    mfa,
  };

  await bootstrap(config, { organizations, users }, announce);

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
  registerGuard(app, config, () => services.verifiers);
  registerMetrics(app, config.metricsToken);
  app.addSchema(ErrorBody);
  app.addSchema(UserSchema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Portcullis',
        version: '0.1.0',
        description: 'Identity and credential service. Errors share one body: see ErrorBody.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          basic: { type: 'http', scheme: 'basic' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }, { basic: [] }],
    },
  });
  // The documentation pages are public.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), auth: 'none' };
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  app.get(
    '/healthz',
    {
      config: { auth: 'none' },
      schema: { tags: ['ops'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get('/readyz', { config: { auth: 'none' }, schema: { tags: ['ops'] } }, async () => {
    try {
      await storage.ping();
    } catch (cause) {
      throw new AppError('service.unavailable', { detail: 'database unreachable', cause });
    }
    return { status: 'ready', database: storage.dialect, sharedState: state.kind };
  });
  app.get('/openapi.json', { config: { auth: 'none' }, schema: { hide: true } }, async () => app.swagger());

  await app.register(identityRoutes, { services });
  await app.register(auditRoutes, { services });
  await app.register(authRoutes, { services });
  await app.register(sessionRoutes, { services });
  await app.register(uiRoutes);
  await app.register(vaultRoutes, { services });
  // The inbound SMTP listener runs beside the HTTP server (never for CLI commands, which do not listen).
  app.addHook('onListen', async () => {
    if (vaultInbox && config.smtpInboundPort !== undefined) await vaultInbox.listen(config.smtpInboundPort, config.host);
  });
  await app.register(directoryRoutes, { services });
  await app.register(idpRoutes, { services });
  await app.register(exchangeTokenRoutes, { services });
  await app.register(mfaRoutes, { services });

  app.addHook('onClose', async () => {
    await vaultInbox?.close();
    await apiKeys.stop();
    await sessions.stop();
    await unsubscribeAccount();
    mailer.close();
    await state.close();
    await storage.close();
  });
  return Object.assign(app, { services }) as unknown as App;
}
