import { calculatePKCECodeChallenge } from 'openid-client';
import type { AuditService } from '../audit/index.js';
import { authorize, can, inOrganization, type RequestContext } from '../auth/index.js';
import type { Config } from '../config/index.js';
import { constantTimeEqual, type MasterKeyring, randomToken, sha256Hex } from '../crypto/index.js';
import { AppError, assertThat } from '../errors/index.js';
import { ownProps } from '../http/index.js';
import type { User, UsersService } from '../identity/index.js';
import type { LoginInput } from '../sessions/index.js';
import { UniqueViolation } from '../storage/index.js';
import { secretAad, verifierAad } from './federation.sealed.js';
import type {
  AuthStyle,
  ExternalIdentity,
  FieldMapping,
  IdentityProvider,
  IdpConfig,
  IdpsRepo,
  IdpType,
  OAuth2Config,
  OidcConfig,
} from './idps.repo.js';
import { checkOutboundUrl } from './outbound/guarded-fetch.js';
import { type ExternalProfile, ProviderError } from './profile.js';
import type { ProviderClients } from './provider-clients.js';
import { allowedReturnUrl } from './return-url.js';

export interface IdpsDeps {
  repo: IdpsRepo;
  users: UsersService;
  audit: AuditService;
  keyring: MasterKeyring;
  clients: ProviderClients;
  /** `idpFlowTtlSeconds` is the lifetime of a browser sign-in between `/authorize` and `/oauth/callback`. */
  config: Pick<Config, 'publicUrl' | 'allowedReturnUrls' | 'idpAllowPrivateHosts' | 'idpFlowTtlSeconds'>;
}

interface SecretInput {
  clientSecret?: string | undefined;
}
export interface CreateIdpInput {
  identityProviderId?: string | undefined;
  title: string;
  domain?: string | undefined;
  type: IdpType;
  config: {
    oidcConfig?: (Omit<OidcConfig, 'scopes'> & { scopes?: string[] | undefined; clientSecret: string }) | undefined;
    oauth2Config?: (Omit<OAuth2Config, 'scopes'> & { scopes?: string[] | undefined; clientSecret: string }) | undefined;
  };
  allowJitProvisioning?: boolean | undefined;
}
export interface UpdateIdpInput {
  title?: string | undefined;
  domain?: string | null | undefined;
  config?:
    | {
        oidcConfig?: (Partial<OidcConfig> & SecretInput) | undefined;
        oauth2Config?: (Partial<OAuth2Config> & SecretInput) | undefined;
      }
    | undefined;
  allowJitProvisioning?: boolean | undefined;
}

const IDP_NAME = /^idps\/([a-z]([a-z0-9-]{0,61}[a-z0-9])?)$/;

function cleanMapping(m: FieldMapping | undefined): FieldMapping | undefined {
  if (!m) return undefined;
  const out: FieldMapping = {};
  for (const k of ['identifier', 'displayName', 'email', 'phone', 'emailVerified'] as const) if (Object.hasOwn(m, k) && m[k]) out[k] = m[k];
  return out;
}

/** Only the non-secret fields of a config input are stored in clear. */
function storedConfig(type: IdpType, config: UpdateIdpInput['config'] & object): IdpConfig {
  if (type === 'OIDC') {
    const c = config.oidcConfig as OidcConfig;
    return {
      oidcConfig: {
        issuer: c.issuer.replace(/\/+$/, ''),
        clientId: c.clientId,
        scopes: c.scopes ?? ['openid', 'profile', 'email'],
        ...(c.fieldMapping ? { fieldMapping: cleanMapping(c.fieldMapping) } : {}),
        ...(c.authStyle ? { authStyle: c.authStyle as AuthStyle } : {}),
      },
    };
  }
  const c = config.oauth2Config as OAuth2Config;
  return {
    oauth2Config: {
      authUrl: c.authUrl,
      tokenUrl: c.tokenUrl,
      userInfoUrl: c.userInfoUrl,
      clientId: c.clientId,
      scopes: c.scopes ?? [],
      fieldMapping: cleanMapping(c.fieldMapping) ?? {},
      ...(c.authStyle ? { authStyle: c.authStyle as AuthStyle } : {}),
    },
  };
}

export function createIdpsService(deps: IdpsDeps) {
  const { repo, users, audit, keyring, clients, config } = deps;
  const flowTtlSeconds = config.idpFlowTtlSeconds;
  const redirectUri = `${config.publicUrl}/oauth/callback`;

  const secretOf = (idp: IdentityProvider) => () => keyring.unwrap(idp.clientSecretSealed, secretAad(idp.id)).toString('utf8');

  /** The URLs of a config must pass the outbound policy before they are stored. */
  function checkUrls(type: IdpType, c: IdpConfig): void {
    const fields: [string, string | undefined][] =
      type === 'OIDC'
        ? [['body.config.oidcConfig.issuer', c.oidcConfig?.issuer]]
        : [
            ['body.config.oauth2Config.authUrl', c.oauth2Config?.authUrl],
            ['body.config.oauth2Config.tokenUrl', c.oauth2Config?.tokenUrl],
            ['body.config.oauth2Config.userInfoUrl', c.oauth2Config?.userInfoUrl],
          ];
    for (const [path, value] of fields) {
      try {
        checkOutboundUrl(value ?? '', config.idpAllowPrivateHosts);
      } catch (err) {
        throw new AppError('request.invalid', { details: [path], detail: (err as Error).message });
      }
    }
  }

  /** A provider the caller may administer: same organization (or superadmin), else not found. */
  async function administered(ctx: RequestContext, id: string): Promise<IdentityProvider> {
    const p = ctx.principal;
    assertThat(p, 'auth.unauthenticated');
    const idp = await repo.findById(id);
    if (!idp) throw new AppError('resource.not_found');
    authorize(p, 'idp.write', inOrganization(idp.organizationId));
    return idp;
  }

  /** The API view: never the secret, only whether one is set. */
  function present(idp: IdentityProvider) {
    const { oidcConfig, oauth2Config } = idp.config;
    return {
      ...presentPublic(idp),
      config: {
        ...(oidcConfig ? { oidcConfig: { ...oidcConfig, clientSecretSet: true } } : {}),
        ...(oauth2Config ? { oauth2Config: { ...oauth2Config, clientSecretSet: true } } : {}),
      },
      allowJitProvisioning: idp.allowJitProvisioning,
      redirectUri,
      createdAt: idp.createdAt,
      updatedAt: idp.updatedAt,
    };
  }

  const presentPublic = (idp: IdentityProvider) => ({
    name: `idps/${idp.id}`,
    id: idp.id,
    title: idp.title,
    type: idp.type,
    domain: idp.domain ?? '',
  });

  async function refuse(ctx: RequestContext, idp: IdentityProvider | undefined, reason: string, unavailable = false): Promise<never> {
    await audit.record(ctx, {
      action: 'idp.login_failed',
      organizationId: idp?.organizationId ?? null,
      outcome: 'failure',
      targetType: 'idp',
      targetId: idp?.id ?? null,
      data: { reason },
    });
    if (unavailable) throw new AppError('idp.unavailable', { detail: reason });
    throw new AppError('auth.invalid_credentials', { detail: reason });
  }

  /** Runs a provider call; its failures are audited and leave as a generic 401 (or 503 when unreachable). */
  async function atProvider<T>(ctx: RequestContext, idp: IdentityProvider, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ProviderError) return refuse(ctx, idp, err.reason, err.unavailable);
      if (err instanceof AppError) throw err;
      return refuse(ctx, idp, `unexpected:${(err as Error)?.name ?? 'error'}`);
    }
  }

  /** Links an external identity; false when the subject was linked meanwhile (a concurrent sign-in won). */
  async function insertLink(identity: ExternalIdentity): Promise<boolean> {
    try {
      await repo.insertIdentity(identity);
      return true;
    } catch (err) {
      if (err instanceof UniqueViolation) return false;
      throw err;
    }
  }

  async function jitUserName(preferred: string): Promise<string> {
    const base = preferred.replace(/[\u0000-\u001f\u007f/]/g, '_').slice(0, 100);
    if (!(await users.lookup.findByUserName(base))) return base;
    return `${base.slice(0, 90)}-${randomToken(4)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`;
  }

  /**
   * Links the external identity to a user, in this order: an existing link; else an existing
   * user with the same email, only when the provider asserts it verified; else a new user
   * (JIT provisioning, when the provider allows it).
   */
  async function resolveUser(ctx: RequestContext, idp: IdentityProvider, profile: ExternalProfile): Promise<User> {
    const now = ctx.now.toISOString();
    const linked = await repo.findIdentity(idp.id, profile.subject);
    if (linked) {
      const user = await users.lookup.findById(linked.userId);
      if (user?.state !== 'ACTIVE' || user.organizationId !== idp.organizationId) return refuse(ctx, idp, 'linked_user_inactive');
      await repo.touchIdentity(idp.id, profile.subject, now);
      return user;
    }
    const link = (userId: string): ExternalIdentity => ({
      providerId: idp.id,
      subject: profile.subject,
      userId,
      email: profile.email ?? null,
      createdAt: now,
      lastLoginAt: now,
    });
    const existing = profile.email ? await users.lookup.findByEmail(profile.email) : undefined;
    if (existing) {
      // Why: an unverified email is only a claim; linking on it would hand the account to whoever typed the address.
      if (!profile.emailVerified) return refuse(ctx, idp, 'email_not_verified');
      if (existing.organizationId !== idp.organizationId) return refuse(ctx, idp, 'email_in_other_organization');
      if (existing.state !== 'ACTIVE' || existing.userType !== 'USER') return refuse(ctx, idp, 'user_not_linkable');
      if (!(await insertLink(link(existing.id)))) return resolveUser(ctx, idp, profile);
      await audit.record(ctx, {
        action: 'idp.identity_linked',
        organizationId: idp.organizationId,
        targetType: 'user',
        targetId: existing.id,
        actor: { type: 'user', id: existing.id },
        data: { idp: idp.id, via: 'verified_email' },
      });
      return existing;
    }
    if (!idp.allowJitProvisioning) return refuse(ctx, idp, 'jit_disabled');
    const { user } = await users.provision(
      ctx,
      {
        userName: await jitUserName(profile.email ?? `${idp.id}-${profile.subject}`),
        email: profile.email,
        emailVerified: profile.emailVerified,
        firstName: profile.givenName ?? profile.displayName,
        lastName: profile.familyName,
        phone: profile.phone,
        organizationId: idp.organizationId,
        profileSource: `idps/${idp.id}`,
      },
      'identity_provider',
    );
    if (!(await insertLink(link(user.id)))) return resolveUser(ctx, idp, profile);
    await audit.record(ctx, {
      action: 'idp.user_provisioned',
      organizationId: idp.organizationId,
      targetType: 'user',
      targetId: user.id,
      actor: { type: 'user', id: user.id },
      data: { idp: idp.id },
    });
    return user;
  }

  return {
    redirectUri,

    async create(ctx: RequestContext, body: CreateIdpInput, queryId?: string) {
      // Why: absent fields have defaults (`allowJitProvisioning ?? true`); only what the request set is read.
      const input = ownProps(body);
      const p = authorize(ctx.principal, 'idp.write', inOrganization(ctx.principal?.organizationId ?? ''));
      if (input.identityProviderId && queryId && input.identityProviderId !== queryId) {
        throw new AppError('request.invalid', { details: ['query.identityProviderId'], detail: 'id differs from body' });
      }
      const id =
        input.identityProviderId ??
        queryId ??
        `idp-${randomToken(6)
          .toLowerCase()
          .replace(/[^a-z0-9]/g, '0')}`;
      const kind = input.type === 'OIDC' ? 'oidcConfig' : 'oauth2Config';
      const other = input.type === 'OIDC' ? 'oauth2Config' : 'oidcConfig';
      const given = input.config[kind];
      if (!given || input.config[other]) throw new AppError('request.invalid', { details: [`body.config.${kind}`] });
      const stored = storedConfig(input.type, input.config);
      checkUrls(input.type, stored);
      const now = ctx.now.toISOString();
      const idp: IdentityProvider = {
        id,
        organizationId: p.organizationId,
        title: input.title.trim(),
        domain: input.domain?.trim().toLowerCase() || null,
        type: input.type,
        config: stored,
        clientSecretSealed: keyring.wrap(given.clientSecret, secretAad(id)),
        allowJitProvisioning: input.allowJitProvisioning ?? true,
        createdAt: now,
        updatedAt: now,
      };
      try {
        await repo.insert(idp);
      } catch (err) {
        if (err instanceof UniqueViolation)
          throw new AppError('resource.conflict', { details: ['body.identityProviderId'], detail: 'idp exists', cause: err });
        throw err;
      }
      await audit.record(ctx, {
        action: 'idp.created',
        organizationId: idp.organizationId,
        targetType: 'idp',
        targetId: id,
        data: { type: idp.type, title: idp.title },
      });
      return present(idp);
    },

    /**
     * Without credentials: every provider's public fields (id, title, type, domain) for a login
     * page, optionally filtered by organization or email domain. With `idps:write`: the
     * caller's organization in full (secrets excepted). Other signed-in callers: their
     * organization's public fields.
     */
    async list(ctx: RequestContext, filter: { domain?: string | undefined; organizationId?: string | undefined }) {
      const p = ctx.principal;
      if (!p) return (await repo.list(filter)).map(presentPublic);
      const organizationId = p.isSuperadmin && filter.organizationId ? filter.organizationId : p.organizationId;
      const rows = await repo.list({ organizationId, domain: filter.domain });
      return can(p, 'idp.write', inOrganization(organizationId)).allow ? rows.map(present) : rows.map(presentPublic);
    },

    async get(ctx: RequestContext, id: string) {
      return present(await administered(ctx, id));
    },

    async update(ctx: RequestContext, id: string, body: UpdateIdpInput) {
      // Why: an absent field keeps its stored value; only what the request set is read.
      const input = ownProps(body);
      const before = await administered(ctx, id);
      const kind = before.type === 'OIDC' ? 'oidcConfig' : 'oauth2Config';
      const other = before.type === 'OIDC' ? 'oauth2Config' : 'oidcConfig';
      if (input.config?.[other]) throw new AppError('request.invalid', { details: [`body.config.${other}`], detail: 'type cannot change' });
      const patch = input.config?.[kind];
      let configNext = before.config;
      let sealed = before.clientSecretSealed;
      const changed: string[] = [];
      if (patch) {
        const { clientSecret, ...fields } = patch;
        const merged = { ...before.config[kind], ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) };
        configNext = storedConfig(before.type, { [kind]: merged });
        checkUrls(before.type, configNext);
        if (clientSecret) {
          sealed = keyring.wrap(clientSecret, secretAad(id));
          changed.push('clientSecret');
        }
        changed.push(...Object.keys(fields).filter((k) => (fields as Record<string, unknown>)[k] !== undefined));
      }
      const next: IdentityProvider = {
        ...before,
        title: input.title?.trim() ?? before.title,
        domain: input.domain === undefined ? before.domain : input.domain?.trim().toLowerCase() || null,
        config: configNext,
        clientSecretSealed: sealed,
        allowJitProvisioning: input.allowJitProvisioning ?? before.allowJitProvisioning,
        updatedAt: ctx.now.toISOString(),
      };
      if (next.updatedAt === before.updatedAt) next.updatedAt = new Date(ctx.now.getTime() + 1).toISOString();
      for (const k of ['title', 'domain', 'allowJitProvisioning'] as const) if (input[k] !== undefined) changed.push(k);
      await repo.updateById(id, next);
      clients.forget(id);
      await audit.record(ctx, {
        action: 'idp.updated',
        organizationId: before.organizationId,
        targetType: 'idp',
        targetId: id,
        data: { changedFields: changed },
      });
      return present(next);
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      const idp = await administered(ctx, id);
      await repo.deleteById(id);
      clients.forget(id);
      await audit.record(ctx, { action: 'idp.deleted', organizationId: idp.organizationId, targetType: 'idp', targetId: id });
    },

    /**
     * The `idp` seam of `POST /v1/auth/login`: `idpName: "idps/{id}"` with
     * `idpContext.oidcContext.code` or `.oauth2Context.code`. Answers the linked user; sessions
     * then applies MFA and issues tokens.
     */
    async login(ctx: RequestContext, input: LoginInput): Promise<User> {
      const match = IDP_NAME.exec(input.idpName ?? '');
      if (!match) throw new AppError('request.invalid', { details: ['body.idpName'], detail: 'idpName must be idps/{id}' });
      const context = (input.idpContext ?? {}) as { oidcContext?: { code?: string }; oauth2Context?: { code?: string } };
      const code = context.oidcContext?.code ?? context.oauth2Context?.code;
      if (!code) throw new AppError('request.invalid', { details: ['body.idpContext'], detail: 'code missing' });
      const idp = await repo.findById(match[1] as string);
      if (!idp) return refuse(ctx, undefined, 'unknown_idp');
      const profile = await atProvider(ctx, idp, () => clients.exchange(idp, secretOf(idp), { code }));
      return resolveUser(ctx, idp, profile);
    },

    /** `GET /v1/idps/{id}/authorize`: stores a flow (state hash, nonce, sealed PKCE verifier, returnTo) and answers the provider URL. */
    async startAuthorization(ctx: RequestContext, id: string, returnTo: string | undefined) {
      const target = allowedReturnUrl(returnTo, config.publicUrl, config.allowedReturnUrls);
      if (!target) throw new AppError('request.invalid', { details: ['query.returnTo'], detail: 'returnTo not allow-listed' });
      const idp = await repo.findById(id);
      if (!idp) throw new AppError('resource.not_found');
      const state = randomToken(32);
      const stateHash = sha256Hex(state);
      const nonce = idp.type === 'OIDC' ? randomToken(32) : null;
      const codeVerifier = randomToken(48);

      const url = await atProvider(ctx, idp, async () =>
        clients.authorizationUrl(idp, secretOf(idp), {
          state,
          nonce: nonce ?? undefined,
          codeChallenge: await calculatePKCECodeChallenge(codeVerifier),
        }),
      );
      const now = ctx.now;
      await repo.deleteExpiredFlows(now.toISOString());
      await repo.insertFlow({
        stateHash,
        providerId: idp.id,
        nonce,
        codeVerifierSealed: keyring.wrap(codeVerifier, verifierAad(stateHash)),
        returnTo: target,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + flowTtlSeconds * 1000).toISOString(),
      });
      return { url: url.toString(), state, ttlSeconds: flowTtlSeconds };
    },

    /**
     * `GET /oauth/callback`: the flow is taken out once (a replayed or tampered state finds
     * nothing), must belong to this browser (the state cookie set at `/authorize`), then the code
     * is exchanged with the stored PKCE verifier and nonce.
     */
    async completeAuthorization(
      ctx: RequestContext,
      query: { code?: string | undefined; state?: string | undefined; iss?: string | undefined; error?: string | undefined },
      browserState: string | undefined,
    ): Promise<{ user: User; returnTo: string; idp: IdentityProvider }> {
      if (!query.state) throw new AppError('idp.invalid_flow', { detail: 'state missing' });
      const stateHash = sha256Hex(query.state);
      const flow = await repo.consumeFlow(stateHash);
      const idp = flow && (await repo.findById(flow.providerId));
      if (!flow || !idp) {
        await audit.record(ctx, {
          action: 'idp.login_failed',
          organizationId: null,
          outcome: 'failure',
          data: { reason: 'unknown_state' },
        });
        throw new AppError('idp.invalid_flow', { detail: 'unknown or used state' });
      }
      const fail = async (reason: string): Promise<never> => {
        await audit.record(ctx, {
          action: 'idp.login_failed',
          organizationId: idp.organizationId,
          outcome: 'failure',
          targetType: 'idp',
          targetId: idp.id,
          data: { reason },
        });
        throw new AppError('idp.invalid_flow', { detail: reason });
      };
      if (Date.parse(flow.expiresAt) <= ctx.now.getTime()) return fail('flow_expired');
      // Why: a callback URL carrying someone else's code and state must not sign this browser in (login CSRF).
      if (!browserState || !constantTimeEqual(browserState, query.state)) return fail('state_cookie_mismatch');
      if (query.error) return refuse(ctx, idp, `provider_error:${query.error.slice(0, 64)}`);
      if (!query.code) return fail('code_missing');
      const codeVerifier = keyring.unwrap(flow.codeVerifierSealed, verifierAad(stateHash)).toString('utf8');
      const profile = await atProvider(ctx, idp, () =>
        clients.exchange(idp, secretOf(idp), {
          code: query.code as string,
          state: query.state,
          iss: query.iss,
          nonce: flow.nonce ?? undefined,
          codeVerifier,
        }),
      );
      return { user: await resolveUser(ctx, idp, profile), returnTo: flow.returnTo, idp };
    },
  };
}
export type IdpsService = ReturnType<typeof createIdpsService>;
