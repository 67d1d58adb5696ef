import type { Insertable } from 'kysely';
import type { AuditService } from '../audit/index.js';
import { authorize, inOrganization, type RequestContext } from '../auth/index.js';
import { currentTotpCode, type MasterKeyring, newId, parseTotpSeed } from '../crypto/index.js';
import { AppError } from '../errors/index.js';
import { createRateLimit, rateLimited, type SharedState } from '../state/index.js';
import { UniqueViolation, type VaultLoginsTable } from '../storage/index.js';
import { extractCode } from './inbox/extract.js';
import { createDataKeys, type OrgCipher } from './vault.keys.js';
import { type LoginFilter, type LoginPatch, type LoginRow, type LoginSummary, summarize, type VaultRepo } from './vault.repo.js';
import type { LoginView, Selectors, StorageState, UpsertLoginInput } from './vault.schemas.js';

export interface VaultDeps {
  /** Built on `storage.executor`: it joins `transaction`. */
  repo: VaultRepo;
  /** `storage.transaction`. */
  transaction: <T>(fn: () => Promise<T>) => Promise<T>;
  keyring: MasterKeyring;
  audit: AuditService;
  state: SharedState;
  /** How long a captured email code stays readable. */
  emailCodeTtlSeconds: number;
  /** Reveals per minute for one caller (API key or user). */
  revealPerMinute: number;
}

/** Field names used as associated data and in audit `changedFields`. */
const F = {
  password: 'loginConfiguration.password',
  totp: 'loginConfiguration.twoFactorAuthConfiguration.totpSecretKey',
  proxyPassword: 'proxy.password',
  session: 'sessionState',
  emailCode: 'emailCode',
  apiKey: 'loginConfiguration.apiKey',
  bearerToken: 'loginConfiguration.bearerToken',
  additional: 'loginConfiguration.additionalCredentials',
} as const;
/** The associated-data field names of the vault's sealed values (the runner seals its screenshots too). */
export const SEALED_FIELDS = F;

const emailChannel = (loginId: string): string => `vault.email-code:${loginId}`;
/** How a 2FA address is compared everywhere (upsert, claims, inbound RCPT TO): trimmed, lower-cased. */
const inboxKey = (address: string): string => address.trim().toLowerCase();
const TWO_FACTOR_EMAIL_FIELD = 'body.loginConfiguration.twoFactorAuthConfiguration.twoFactorAuthEmail';

/** The login's 2FA address was changed by a concurrent upsert between reading and writing it: retry. */
class LoginChangedMeanwhile extends Error {
  override name = 'LoginChangedMeanwhile';
}
/** The 2FA address of an upsert belongs to another organization. */
class InboxAddressClaimed extends Error {
  override name = 'InboxAddressClaimed';
}
const bool = (v: number | null): boolean | null => (v === null ? null : v === 1);
const bit = (v: boolean | null | undefined): number | null => (v === null || v === undefined ? null : v ? 1 : 0);

/** The public view of a login: never a secret, `null` for every unset value. */
export function presentLogin(row: LoginSummary): LoginView {
  return {
    id: row.id,
    organizationId: row.organizationId,
    name: row.name,
    authenticationUrl: row.authenticationUrl,
    homeUrl: row.homeUrl,
    loginConfiguration: {
      username: row.username,
      email: row.email,
      phone: row.phone,
      twoFactorAuthConfiguration: row.hasTwoFactor
        ? {
            method: row.twoFactorMethod,
            alwaysRequired: bool(row.twoFactorAlwaysRequired),
            twoFactorAuthEmail: row.twoFactorEmail,
            hasTotpSecret: row.hasTotpSecret,
          }
        : null,
      hasPassword: row.hasPassword,
      hasApiKey: row.hasApiKey,
      hasBearerToken: row.hasBearerToken,
      additionalCredentials:
        row.additionalCredentialKeys === null ? null : (JSON.parse(row.additionalCredentialKeys) as { id: string; key: string }[]),
    },
    proxy: row.hasProxy ? { username: row.proxyUsername, server: row.proxyServer, hasPassword: row.hasProxyPassword } : null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    persistSession: bool(row.persistSession),
    hasSession: row.hasSession,
    iconUrl: row.iconUrl,
    description: row.description,
    isManualAuthentication: bool(row.isManualAuthentication),
    supportConcurrentLogins: bool(row.supportConcurrentLogins),
    supportsAgentConcurrency: bool(row.supportsAgentConcurrency),
    useLLMLoginDetection: bool(row.useLlmLoginDetection),
    loginDetectionPrompt: row.loginDetectionPrompt,
    loginInstructionsPrompt: row.loginInstructionsPrompt,
    selectors:
      row.selectors === null
        ? null
        : { identifier: null, password: null, submit: null, code: null, success: null, ...(JSON.parse(row.selectors) as Selectors) },
  };
}

/** The caller's organization, once the policy allows the action on its vault. */
function organizationOf(
  ctx: RequestContext,
  action: 'vault.read' | 'vault.write' | 'vault.reveal' | 'vault.authenticate' | 'vault.browse',
): string {
  if (!ctx.principal) throw new AppError('auth.unauthenticated');
  authorize(ctx.principal, action, inOrganization(ctx.principal.organizationId));
  return ctx.principal.organizationId;
}

const hostOf = (url: string): string | undefined => {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? u.hostname.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
};

/** Checks what the schema cannot; every refusal names its field path. */
function validate(input: UpsertLoginInput): { authDomain: string; homeDomain: string } {
  const details: string[] = [];
  const authDomain = hostOf(input.authenticationUrl);
  const homeDomain = hostOf(input.homeUrl);
  if (!authDomain) details.push('body.authenticationUrl');
  if (!homeDomain) details.push('body.homeUrl');
  const lc = input.loginConfiguration;
  const seed = lc.twoFactorAuthConfiguration?.totpSecretKey;
  if (typeof seed === 'string' && !parseTotpSeed(seed)) details.push('body.loginConfiguration.twoFactorAuthConfiguration.totpSecretKey');
  const server = input.proxy?.server;
  if (typeof server === 'string') {
    try {
      const u = new URL(server);
      if (!['http:', 'https:', 'socks5:'].includes(u.protocol) || !u.hostname) details.push('body.proxy.server');
    } catch {
      details.push('body.proxy.server');
    }
  }
  if (!lc.username && !lc.email && !lc.phone) {
    details.push('body.loginConfiguration.username', 'body.loginConfiguration.email', 'body.loginConfiguration.phone');
  }
  if (details.length > 0 || !authDomain || !homeDomain) throw new AppError('request.invalid', { details, detail: 'login validation' });
  return { authDomain, homeDomain };
}

/**
 * The row after applying `input` to `before` (or to an empty login): omitted fields keep their
 * value, `null` clears, secrets are sealed. Returns the changed field names (never values).
 */
function merge(
  before: LoginRow | undefined,
  input: UpsertLoginInput,
  domains: { authDomain: string; homeDomain: string },
  cipher: OrgCipher,
  id: string,
  now: string,
): { row: LoginRow; changed: string[] } {
  const row: LoginRow = before
    ? { ...before }
    : {
        id,
        organizationId: '',
        name: '',
        authenticationUrl: '',
        homeUrl: '',
        authDomain: '',
        homeDomain: '',
        username: null,
        email: null,
        emailKey: null,
        phone: null,
        passwordSealed: null,
        hasTwoFactor: 0,
        twoFactorMethod: null,
        twoFactorAlwaysRequired: null,
        twoFactorEmail: null,
        twoFactorEmailKey: null,
        totpSecretSealed: null,
        hasProxy: 0,
        proxyUsername: null,
        proxyServer: null,
        proxyPasswordSealed: null,
        persistSession: null,
        sessionStateSealed: null,
        sessionUpdatedAt: null,
        createdAt: now,
        updatedAt: now,
        iconUrl: null,
        description: null,
        apiKeySealed: null,
        bearerTokenSealed: null,
        additionalCredentialsSealed: null,
        additionalCredentialKeys: null,
        isManualAuthentication: null,
        supportConcurrentLogins: null,
        supportsAgentConcurrency: null,
        useLlmLoginDetection: null,
        loginDetectionPrompt: null,
        loginInstructionsPrompt: null,
        selectors: null,
      };
  const changed: string[] = [];
  const set = <K extends keyof LoginRow>(key: K, value: LoginRow[K], name: string) => {
    if (row[key] !== value) {
      row[key] = value;
      if (!changed.includes(name)) changed.push(name);
    }
  };
  const secret = (
    key:
      | 'passwordSealed'
      | 'totpSecretSealed'
      | 'proxyPasswordSealed'
      | 'apiKeySealed'
      | 'bearerTokenSealed'
      | 'additionalCredentialsSealed',
    value: string | null | undefined,
    name: string,
  ) => {
    if (value === undefined) return;
    if (value === null) return set(key, null, name);
    row[key] = cipher.seal(id, name, value);
    if (!changed.includes(name)) changed.push(name);
  };

  set('name', input.name.trim(), 'name');
  set('authenticationUrl', input.authenticationUrl, 'authenticationUrl');
  set('homeUrl', input.homeUrl, 'homeUrl');
  row.authDomain = domains.authDomain;
  row.homeDomain = domains.homeDomain;
  const lc = input.loginConfiguration;
  if (lc.username !== undefined) set('username', lc.username, 'loginConfiguration.username');
  if (lc.email !== undefined) {
    set('email', lc.email === null ? null : lc.email.trim(), 'loginConfiguration.email');
    row.emailKey = row.email?.toLowerCase() ?? null;
  }
  if (lc.phone !== undefined) set('phone', lc.phone, 'loginConfiguration.phone');
  secret('passwordSealed', lc.password, F.password);
  secret('apiKeySealed', lc.apiKey, F.apiKey);
  secret('bearerTokenSealed', lc.bearerToken, F.bearerToken);
  if (lc.additionalCredentials !== undefined) {
    const list = lc.additionalCredentials?.map((c) => ({ id: c.id ?? newId(), key: c.key, value: c.value })) ?? null;
    secret('additionalCredentialsSealed', list === null ? null : JSON.stringify(list), F.additional);
    row.additionalCredentialKeys = list === null ? null : JSON.stringify(list.map(({ id: cid, key }) => ({ id: cid, key })));
  }

  const tfa = lc.twoFactorAuthConfiguration;
  const tfaName = 'loginConfiguration.twoFactorAuthConfiguration';
  if (tfa === null) {
    set('hasTwoFactor', 0, tfaName);
    set('twoFactorMethod', null, `${tfaName}.method`);
    set('twoFactorAlwaysRequired', null, `${tfaName}.alwaysRequired`);
    set('twoFactorEmail', null, `${tfaName}.twoFactorAuthEmail`);
    row.twoFactorEmailKey = null;
    secret('totpSecretSealed', null, F.totp);
  } else if (tfa !== undefined) {
    set('hasTwoFactor', 1, tfaName);
    if (tfa.method !== undefined) set('twoFactorMethod', tfa.method, `${tfaName}.method`);
    if (tfa.alwaysRequired !== undefined) set('twoFactorAlwaysRequired', bit(tfa.alwaysRequired), `${tfaName}.alwaysRequired`);
    if (tfa.twoFactorAuthEmail !== undefined) {
      set('twoFactorEmail', tfa.twoFactorAuthEmail === null ? null : tfa.twoFactorAuthEmail.trim(), `${tfaName}.twoFactorAuthEmail`);
      row.twoFactorEmailKey = row.twoFactorEmail === null ? null : inboxKey(row.twoFactorEmail);
    }
    secret(
      'totpSecretSealed',
      tfa.totpSecretKey === undefined || tfa.totpSecretKey === null ? tfa.totpSecretKey : tfa.totpSecretKey.trim(),
      F.totp,
    );
  }

  const proxy = input.proxy;
  if (proxy === null) {
    set('hasProxy', 0, 'proxy');
    set('proxyUsername', null, 'proxy.username');
    set('proxyServer', null, 'proxy.server');
    secret('proxyPasswordSealed', null, F.proxyPassword);
  } else if (proxy !== undefined) {
    set('hasProxy', 1, 'proxy');
    if (proxy.username !== undefined) set('proxyUsername', proxy.username, 'proxy.username');
    if (proxy.server !== undefined) set('proxyServer', proxy.server, 'proxy.server');
    secret('proxyPasswordSealed', proxy.password, F.proxyPassword);
  }

  if (input.persistSession !== undefined) {
    set('persistSession', bit(input.persistSession), 'persistSession');
    // Why: a stored browser session is a live credential; turning persistence off must not leave one behind.
    if (input.persistSession !== true && row.sessionStateSealed !== null) {
      row.sessionStateSealed = null;
      row.sessionUpdatedAt = null;
      changed.push(F.session);
    }
  }
  const flag = (
    key: 'isManualAuthentication' | 'supportConcurrentLogins' | 'supportsAgentConcurrency' | 'useLlmLoginDetection',
    value: boolean | null | undefined,
    name: string,
  ) => {
    if (value !== undefined) set(key, bit(value), name);
  };
  const textField = (
    key: 'iconUrl' | 'description' | 'loginDetectionPrompt' | 'loginInstructionsPrompt',
    value: string | null | undefined,
    name: string,
  ) => {
    if (value !== undefined) set(key, value, name);
  };
  textField('iconUrl', input.iconUrl, 'iconUrl');
  textField('description', input.description, 'description');
  textField('loginDetectionPrompt', input.loginDetectionPrompt, 'loginDetectionPrompt');
  textField('loginInstructionsPrompt', input.loginInstructionsPrompt, 'loginInstructionsPrompt');
  flag('isManualAuthentication', input.isManualAuthentication, 'isManualAuthentication');
  flag('supportConcurrentLogins', input.supportConcurrentLogins, 'supportConcurrentLogins');
  flag('supportsAgentConcurrency', input.supportsAgentConcurrency, 'supportsAgentConcurrency');
  flag('useLlmLoginDetection', input.useLLMLoginDetection, 'useLLMLoginDetection');
  if (input.selectors !== undefined) {
    const sel = input.selectors;
    // Only the five known keys are kept (the schema refuses others): no inherited or prototype keys reach the stored JSON.
    const clean =
      sel === null
        ? null
        : JSON.stringify({
            identifier: sel.identifier ?? null,
            password: sel.password ?? null,
            submit: sel.submit ?? null,
            code: sel.code ?? null,
            success: sel.success ?? null,
          });
    set('selectors', clean, 'selectors');
  }
  if (changed.length > 0) row.updatedAt = now;
  return { row, changed };
}

/** The body paths of the identifiers that matched `login`. */
function matchedFields(login: LoginRow, ids: { username: string | null; emailKey: string | null; phone: string | null }): string[] {
  const out: string[] = [];
  if (ids.username && login.username === ids.username) out.push('body.loginConfiguration.username');
  if (ids.emailKey && login.emailKey === ids.emailKey) out.push('body.loginConfiguration.email');
  if (ids.phone && login.phone === ids.phone) out.push('body.loginConfiguration.phone');
  return out;
}

/**
 * Moves the organization's claim on a 2FA address from `from` to `to` (either may be null), after
 * the login row was written in the same transaction. Addresses are handled in sorted order, so two
 * transactions moving addresses in opposite directions cannot deadlock.
 */
async function moveInboxClaim(r: VaultRepo, organizationId: string, from: string | null, to: string | null, now: string) {
  if (from === to) return;
  for (const key of [from, to].filter((k): k is string => k !== null).sort()) {
    if (key === to) {
      // Why: an address belongs to one organization; mail to it would otherwise reach two tenants.
      if (!(await r.claimInboxAddress(key, organizationId, now))) throw new InboxAddressClaimed('two-factor email claimed elsewhere');
    } else {
      await r.releaseInboxClaim(key, organizationId);
    }
  }
}

export function createVaultService(deps: VaultDeps) {
  const { repo, transaction, keyring, audit, state } = deps;
  const keys = createDataKeys({ repo, keyring });
  const revealLimit = createRateLimit(state, { name: 'vault_reveal', points: deps.revealPerMinute, windowSeconds: 60 });

  async function loginOf(ctx: RequestContext, id: string, action: 'vault.read' | 'vault.write' | 'vault.reveal'): Promise<LoginRow> {
    const row = await repo.findById(organizationOf(ctx, action), id);
    // Another organization's id answers exactly like an id that does not exist.
    if (!row) throw new AppError('resource.not_found', { detail: 'no such login in the organization' });
    return row;
  }

  async function upsertOnce(
    ctx: RequestContext,
    organizationId: string,
    input: UpsertLoginInput,
    domains: ReturnType<typeof validate>,
    mode: 'upsert' | 'create',
  ) {
    const cipher = await keys.forOrganization(organizationId);
    const lc = input.loginConfiguration;
    const ids = { username: lc.username ?? null, emailKey: lc.email?.trim().toLowerCase() ?? null, phone: lc.phone ?? null };
    return transaction(async () => {
      const r = repo;
      const matches = await r.findByIdentifiers(organizationId, ids);
      if (mode === 'create' && matches.length > 0) {
        throw new AppError('resource.conflict', {
          message: 'A login with this username, email or phone already exists.',
          details: [...new Set(matches.flatMap((m) => matchedFields(m, ids)))],
          detail: 'create collides with an existing login',
        });
      }
      if (matches.length > 1) {
        throw new AppError('vault.ambiguous_login', {
          message: `The identifiers match more than one login: ${matches.map((m) => m.id).join(', ')}.`,
          details: [...new Set(matches.flatMap((m) => matchedFields(m, ids)))],
          detail: 'ambiguous upsert',
        });
      }
      const before = matches[0];
      const now = ctx.now.toISOString();
      const { row, changed } = merge(before, input, domains, cipher, before?.id ?? newId(), now);
      const previousKey = before?.twoFactorEmailKey ?? null;
      if (!before) {
        row.organizationId = organizationId;
        await r.insert(row as Insertable<VaultLoginsTable>);
      } else if (changed.length > 0) {
        const { id: _id, organizationId: _org, createdAt: _c, ...patch } = row;
        // Why guarded: the claim moved below is the one read with `before`; had a concurrent upsert
        // changed the address since, this write would leave a login on an address nobody claims.
        const updated = await r.updateById(organizationId, row.id, patch satisfies LoginPatch, previousKey);
        if (!updated) throw new LoginChangedMeanwhile('login changed during upsert');
      }
      await moveInboxClaim(r, organizationId, previousKey, row.twoFactorEmailKey, now);
      if (!before || changed.length > 0) {
        await audit.record(ctx, {
          action: before ? 'login.updated' : 'login.created',
          organizationId,
          targetType: 'login',
          targetId: row.id,
          data: { changedFields: changed },
        });
      }
      return presentLogin(summarize(row));
    });
  }

  return {
    /**
     * Seed 000's upsert: the login sharing the request's username, email or phone is updated,
     * otherwise one is created. Identifiers that point at two logins are a 409 naming both.
     */
    async upsert(ctx: RequestContext, input: UpsertLoginInput, mode: 'upsert' | 'create' = 'upsert'): Promise<LoginView> {
      const organizationId = organizationOf(ctx, 'vault.write');
      const domains = validate(input);
      // Concurrent upserts of one identity: the unique indexes let one insert win; the others retry and update it.
      for (let attempt = 0; ; attempt++) {
        try {
          return await upsertOnce(ctx, organizationId, input, domains, mode);
        } catch (err) {
          if (err instanceof InboxAddressClaimed) {
            await audit.record(ctx, {
              action: 'login.upsert_refused',
              outcome: 'failure',
              organizationId,
              targetType: 'login',
              data: { reason: 'two-factor email belongs to another organization' },
            });
            throw new AppError('resource.conflict', {
              message: 'The two-factor email address is in use by another organization.',
              details: [TWO_FACTOR_EMAIL_FIELD],
              detail: 'two-factor email claimed by another organization',
            });
          }
          if (!(err instanceof UniqueViolation || err instanceof LoginChangedMeanwhile)) throw err;
          if (attempt >= 4) throw new AppError('resource.conflict', { detail: 'upsert kept colliding', cause: err });
        }
      }
    },

    async get(ctx: RequestContext, id: string): Promise<LoginView> {
      return presentLogin(summarize(await loginOf(ctx, id, 'vault.read')));
    },

    async list(
      ctx: RequestContext,
      filter: { name?: string | undefined; domain?: string | undefined; username?: string | undefined; email?: string | undefined },
      limit: number,
      after?: { createdAt: string; id: string },
    ): Promise<LoginView[]> {
      const f: LoginFilter = {
        name: filter.name,
        domain: filter.domain?.toLowerCase().replace(/^\.+|\.+$/g, ''),
        username: filter.username,
        emailKey: filter.email?.trim().toLowerCase(),
      };
      return (await repo.list(organizationOf(ctx, 'vault.read'), f, limit, after)).map(presentLogin);
    },

    /** Deletes a login, its captured codes, and the organization's claim on its 2FA address when no other login uses it. */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      const organizationId = organizationOf(ctx, 'vault.write');
      await transaction(async () => {
        const r = repo;
        const deleted = await r.deleteById(organizationId, id);
        if (!deleted) throw new AppError('resource.not_found', { detail: 'no such login in the organization' });
        if (deleted.twoFactorEmailKey !== null) await r.releaseInboxClaim(deleted.twoFactorEmailKey, organizationId);
        await audit.record(ctx, { action: 'login.deleted', organizationId, targetType: 'login', targetId: id });
      });
    },

    /** The current RFC 6238 code from the stored seed. */
    async totp(ctx: RequestContext, id: string): Promise<{ code: string; period: number; expiresAt: string }> {
      const login = await loginOf(ctx, id, 'vault.read');
      if (!login.totpSecretSealed) throw new AppError('vault.no_totp_secret');
      const cipher = await keys.forOrganization(login.organizationId);
      const params = parseTotpSeed(cipher.open(login.id, F.totp, login.totpSecretSealed).unwrap());
      if (!params) throw new AppError('vault.secret_unreadable', { detail: 'stored TOTP seed does not parse' });
      const { code, period, expiresAt } = currentTotpCode(params, ctx.now);
      await audit.record(ctx, { action: 'login.totp_generated', organizationId: login.organizationId, targetType: 'login', targetId: id });
      return { code, period, expiresAt: expiresAt.toISOString() };
    },

    /** The stored passwords, for an automation runner. Rate-limited per caller and audited. */
    async reveal(ctx: RequestContext, id: string): Promise<{ password: string | null; proxyPassword: string | null }> {
      const login = await loginOf(ctx, id, 'vault.reveal');
      const p = ctx.principal!;
      const allowance = await revealLimit.consume(p.kind === 'api_key' ? `key:${p.apiKeyId}` : `user:${p.userId}`);
      if (!allowance.allowed) {
        await audit.record(ctx, {
          action: 'login.revealed',
          outcome: 'failure',
          organizationId: login.organizationId,
          targetType: 'login',
          targetId: id,
          data: { reason: 'rate limited' },
        });
        throw rateLimited(allowance.resetMs);
      }
      const cipher = await keys.forOrganization(login.organizationId);
      const password = login.passwordSealed ? cipher.open(login.id, F.password, login.passwordSealed).unwrap() : null;
      const proxyPassword = login.proxyPasswordSealed ? cipher.open(login.id, F.proxyPassword, login.proxyPasswordSealed).unwrap() : null;
      await audit.record(ctx, {
        action: 'login.revealed',
        organizationId: login.organizationId,
        targetType: 'login',
        targetId: id,
        data: { revealedFields: [...(password !== null ? [F.password] : []), ...(proxyPassword !== null ? [F.proxyPassword] : [])] },
      });
      return { password, proxyPassword };
    },

    /**
     * The newest emailed code received after `since`, waiting up to `waitSeconds` for one to
     * arrive. Arrivals are announced on the shared-state pub/sub, so any instance's listener wakes it.
     */
    async emailCode(
      ctx: RequestContext,
      id: string,
      options: { since?: string | undefined; waitSeconds: number },
    ): Promise<{ code: string | null; link: string | null; receivedAt: string; expiresAt: string }> {
      const login = await loginOf(ctx, id, 'vault.read');
      const since = options.since ? new Date(options.since).toISOString() : '';
      const deadline = Date.now() + options.waitSeconds * 1000;
      let wake: (() => void) | undefined;
      // Subscribe before the first look, so a code arriving in between is not missed.
      const unsubscribe = options.waitSeconds > 0 ? await state.subscribe(emailChannel(id), () => wake?.()) : undefined;
      try {
        for (;;) {
          const found = await repo.findNewestEmailCode(login.organizationId, id, since, new Date().toISOString());
          if (found) {
            const cipher = await keys.forOrganization(login.organizationId);
            const value = JSON.parse(cipher.open(found.id, F.emailCode, found.valueSealed).unwrap()) as {
              code: string | null;
              link: string | null;
            };
            await audit.record(ctx, {
              action: 'login.email_code_read',
              organizationId: login.organizationId,
              targetType: 'login',
              targetId: id,
            });
            return { code: value.code, link: value.link, receivedAt: found.receivedAt, expiresAt: found.expiresAt };
          }
          const left = deadline - Date.now();
          if (left <= 0) throw new AppError('vault.email_code_not_received');
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, left);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
      } finally {
        wake = undefined;
        await unsubscribe?.();
      }
    },

    /** True when an organization has claimed this address for its logins' 2FA email: the RCPT TO check. */
    async acceptsRecipient(address: string): Promise<boolean> {
      return (await repo.findInboxClaim(inboxKey(address))) !== undefined;
    },

    /**
     * Stores what an inbound message carries (code and/or link), sealed, for the logins whose 2FA
     * email is one of `recipients` — for each address, only in the organization that claims it —
     * and wakes the waiting long polls. Returns how many it stored.
     */
    async deliverEmail(
      recipients: string[],
      message: { subject: string; text: string; html?: string | undefined },
      at = new Date(),
    ): Promise<number> {
      const found = extractCode(message.subject, message.text, message.html);
      if (!found.code && !found.link) return 0;
      await repo.deleteExpiredEmailCodes(at.toISOString());
      let stored = 0;
      for (const address of new Set(recipients.map(inboxKey))) {
        // Why through the claim: a code is a secret of the one organization the address belongs to.
        const organizationId = await repo.findInboxClaim(address);
        if (organizationId === undefined) continue;
        for (const login of await repo.findByTwoFactorEmail(organizationId, address)) {
          const cipher = await keys.forOrganization(login.organizationId);
          const codeId = newId();
          await repo.insertEmailCode({
            id: codeId,
            organizationId: login.organizationId,
            loginId: login.id,
            valueSealed: cipher.seal(codeId, F.emailCode, JSON.stringify(found)),
            receivedAt: at.toISOString(),
            expiresAt: new Date(at.getTime() + deps.emailCodeTtlSeconds * 1000).toISOString(),
          });
          await audit.record(undefined, {
            action: 'login.email_code_received',
            organizationId: login.organizationId,
            targetType: 'login',
            targetId: login.id,
            actor: { type: 'smtp', id: null },
            data: { hasCode: found.code !== null, hasLink: found.link !== null },
          });
          await state.publish(emailChannel(login.id), '1');
          stored++;
        }
      }
      return stored;
    },

    /** Stores a Playwright storageState, sealed. Only for logins with `persistSession: true`. */
    async storeSession(ctx: RequestContext, id: string, storageState: StorageState): Promise<{ updatedAt: string }> {
      const login = await loginOf(ctx, id, 'vault.write');
      if (login.persistSession !== 1) throw new AppError('vault.session_not_persisted');
      const cipher = await keys.forOrganization(login.organizationId);
      const at = ctx.now.toISOString();
      await repo.updateById(login.organizationId, id, {
        sessionStateSealed: cipher.seal(id, F.session, JSON.stringify(storageState)),
        sessionUpdatedAt: at,
      });
      await audit.record(ctx, {
        action: 'login.session_stored',
        organizationId: login.organizationId,
        targetType: 'login',
        targetId: id,
        data: { cookies: storageState.cookies.length, origins: storageState.origins.length },
      });
      return { updatedAt: at };
    },

    async readSession(ctx: RequestContext, id: string): Promise<StorageState> {
      const login = await loginOf(ctx, id, 'vault.reveal');
      if (!login.sessionStateSealed) throw new AppError('vault.session_not_found');
      const cipher = await keys.forOrganization(login.organizationId);
      const value = JSON.parse(cipher.open(id, F.session, login.sessionStateSealed).unwrap()) as StorageState;
      await audit.record(ctx, { action: 'login.session_read', organizationId: login.organizationId, targetType: 'login', targetId: id });
      return value;
    },

    /**
     * What the login runner uses once the policy allowed its run: the login row, its secrets opened
     * (as `Secret`s, which never print), the organization's cipher, the email-code wait and the
     * session store. Not reachable from a route.
     */
    runnerAccess: {
      organizationOf,
      async findLogin(organizationId: string, id: string): Promise<LoginRow | undefined> {
        return repo.findById(organizationId, id);
      },
      cipher: (organizationId: string) => keys.forOrganization(organizationId),
      async secrets(login: LoginRow) {
        const cipher = await keys.forOrganization(login.organizationId);
        const open = (field: string, sealed: string | null) => (sealed === null ? undefined : cipher.open(login.id, field, sealed));
        const seed = open(F.totp, login.totpSecretSealed);
        return {
          password: open(F.password, login.passwordSealed),
          proxyPassword: open(F.proxyPassword, login.proxyPasswordSealed),
          totp: seed ? parseTotpSeed(seed.unwrap()) : undefined,
          sessionState: open(F.session, login.sessionStateSealed),
        };
      },
      /** The newest code emailed to the login after `since`, waiting until `deadline` (ms epoch) or `signal`. */
      async awaitEmailCode(login: LoginRow, since: string, deadline: number, signal: AbortSignal): Promise<string | undefined> {
        let wake: (() => void) | undefined;
        const unsubscribe = await state.subscribe(emailChannel(login.id), () => wake?.());
        const onAbort = () => wake?.();
        signal.addEventListener('abort', onAbort);
        try {
          for (;;) {
            const found = await repo.findNewestEmailCode(login.organizationId, login.id, since, new Date().toISOString());
            if (found) {
              const cipher = await keys.forOrganization(login.organizationId);
              const value = JSON.parse(cipher.open(found.id, F.emailCode, found.valueSealed).unwrap()) as { code: string | null };
              if (value.code) {
                await audit.record(undefined, {
                  action: 'login.email_code_read',
                  organizationId: login.organizationId,
                  targetType: 'login',
                  targetId: login.id,
                  actor: { type: 'runner', id: null },
                });
                return value.code;
              }
            }
            const left = deadline - Date.now();
            if (left <= 0 || signal.aborted) return undefined;
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, Math.min(left, 2000));
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
          }
        } finally {
          wake = undefined;
          signal.removeEventListener('abort', onAbort);
          await unsubscribe();
        }
      },
      /** Seals a Playwright storageState into the login's stored session. */
      async saveSession(ctx: RequestContext | undefined, login: LoginRow, storageState: string, via: string): Promise<void> {
        const cipher = await keys.forOrganization(login.organizationId);
        const at = new Date().toISOString();
        await repo.updateById(login.organizationId, login.id, {
          sessionStateSealed: cipher.seal(login.id, F.session, storageState),
          sessionUpdatedAt: at,
        });
        await audit.record(ctx, {
          action: 'login.session_stored',
          organizationId: login.organizationId,
          targetType: 'login',
          targetId: login.id,
          ...(ctx ? {} : { actor: { type: 'runner', id: null } }),
          data: { via },
        });
      },
    },

    async dropSession(ctx: RequestContext, id: string): Promise<void> {
      const login = await loginOf(ctx, id, 'vault.write');
      await repo.updateById(login.organizationId, id, { sessionStateSealed: null, sessionUpdatedAt: null });
      await audit.record(ctx, { action: 'login.session_deleted', organizationId: login.organizationId, targetType: 'login', targetId: id });
    },
  };
}
export type VaultService = ReturnType<typeof createVaultService>;
