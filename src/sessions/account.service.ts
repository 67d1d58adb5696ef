import { LRUCache } from 'lru-cache';
import { authorize, type RequestContext, userTarget } from '../auth/index.js';
import { AppError, assertThat } from '../errors/index.js';
import type { EventBus } from '../events/index.js';
import { ownProps } from '../http/index.js';
import type { ApiKeysService, UserSetting, UsersService } from '../identity/index.js';
import { PROFILE_FIELDS, type User, type UserPatch } from '../identity/index.js';

/** Seed 002's extra fields on `POST /v1/auth/user`, handled by the MFA domain. */
export interface ProfileUpdateBody {
  user?: Record<string, unknown> | undefined;
  otpCode?: string | undefined;
  recoveryCode?: string | undefined;
  regenerateTempMfaSecret?: boolean | undefined;
  regenerateRecoveryCodes?: boolean | undefined;
}

export interface AccountSeams {
  /** Runs for MFA fields of `POST /v1/auth/user`; answers fields to add to the returned user. */
  mfaUpdate?: (ctx: RequestContext, user: User, body: ProfileUpdateBody) => Promise<Record<string, unknown> | undefined>;
  /** Extra read-only fields of the signed-in user (e.g. `recoveryCodesRemaining`). */
  userExtras?: (user: User) => Promise<Record<string, unknown>>;
  /** A new email address asked for: mailed a code; it becomes the user's when the code comes back. */
  emailChange?: (ctx: RequestContext, user: User, newEmail: string) => Promise<void>;
}

export interface AccountView {
  user: User;
  apiKeys: Awaited<ReturnType<ApiKeysService['listForOwner']>>;
  settings: UserSetting[];
  extra: Record<string, unknown>;
}

/** Upper bound on serving a cached view if an invalidation were ever missed. */
const VIEW_TTL_MS = 1000;

/**
 * The signed-in user's own account: seed 001's `GET/POST /v1/auth/user`. Only profile fields and
 * writable settings change; ids, roles, state, type, user name, API keys and timestamps in the body
 * are ignored (Babel clients send the whole object back).
 */
export function createAccountService(deps: { users: UsersService; apiKeys: ApiKeysService; seams: AccountSeams; events: EventBus }) {
  const { users, apiKeys } = deps;
  // The signed-in user's view is read on every `GET /v1/auth/user`: cached briefly, and dropped on
  // every instance as soon as anything about the user changes (see `invalidate`, wired in app.ts).
  const views = new LRUCache<string, AccountView>({ max: 10_000, ttl: VIEW_TTL_MS });
  // Why: when a view expires, every request in flight for that user misses at once; they share
  // one load instead of each reading the user, keys and settings (50 connections → 150 queries).
  // A change during the load marks it stale: its callers get what it read, the cache does not.
  const loading = new Map<string, { promise: Promise<AccountView>; change: { stale: boolean } }>();

  async function me(ctx: RequestContext): Promise<User> {
    const p = ctx.principal;
    assertThat(p, 'auth.unauthenticated');
    const user = await users.lookup.findById(p.userId);
    if (!user || user.state !== 'ACTIVE') throw new AppError('auth.unauthenticated', { detail: 'user inactive' });
    return user;
  }

  async function view(user: User, extra: Record<string, unknown> = {}): Promise<AccountView> {
    const [keys, settings, more] = await Promise.all([
      apiKeys.listForOwner(user.organizationId, user.id),
      users.settingsOf(user.id),
      deps.seams.userExtras?.(user) ?? Promise.resolve({}),
    ]);
    return { user, apiKeys: keys, settings, extra: { ...more, ...extra } };
  }

  /** Drops cached views (an `account.changed` broadcast, from every audit event that names a user). */
  function invalidate(userIds: readonly string[]): void {
    for (const id of userIds) {
      views.delete(id);
      const load = loading.get(id);
      if (load) {
        load.change.stale = true;
        loading.delete(id);
      }
    }
  }
  deps.events.onBroadcast('account.changed', (ids) => {
    if (Array.isArray(ids)) invalidate(ids.filter((v): v is string => typeof v === 'string'));
  });

  return {
    async get(ctx: RequestContext): Promise<AccountView> {
      const p = ctx.principal;
      assertThat(p, 'auth.unauthenticated');
      const userId = p.userId;
      const cached = views.get(userId);
      if (cached) return cached;
      let entry = loading.get(userId);
      if (!entry) {
        const change = { stale: false };
        const promise = (async () => {
          try {
            const fresh = await view(await me(ctx));
            if (!change.stale) views.set(userId, fresh);
            return fresh;
          } finally {
            if (loading.get(userId)?.change === change) loading.delete(userId);
          }
        })();
        entry = { promise, change };
        loading.set(userId, entry);
      }
      return entry.promise;
    },

    invalidate,

    async update(ctx: RequestContext, body: ProfileUpdateBody): Promise<AccountView> {
      const user = await me(ctx);
      views.delete(user.id);
      const input: Record<string, unknown> = ownProps(Object.hasOwn(body, 'user') ? body.user : undefined);
      const patch: UserPatch = {};
      const invalid: string[] = [];
      for (const field of PROFILE_FIELDS) {
        let wireName: string = field;
        if (field === 'phone') {
          // seed 001 says phoneNumber, seed 002 phone; a round-tripped object carries both: take the one that changed.
          const names = ['phoneNumber', 'phone'].filter((n) => Object.hasOwn(input, n));
          wireName = names.find((n) => input[n] !== user.phone) ?? names[0] ?? 'phone';
        }
        if (!Object.hasOwn(input, wireName)) continue;
        const value = input[wireName];
        if (field === 'rank' || field === 'customerId') {
          if (value === null || (typeof value === 'number' && Number.isFinite(value))) (patch as Record<string, unknown>)[field] = value;
          else invalid.push(`body.user.${wireName}`);
          continue;
        }
        if (value === null || (typeof value === 'string' && value.length <= 2048)) (patch as Record<string, unknown>)[field] = value;
        else invalid.push(`body.user.${wireName}`);
      }
      if (typeof patch.email === 'string') {
        const email = patch.email.trim().toLowerCase();
        if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email) || email.length > 254) invalid.push('body.user.email');
        patch.email = email;
      }
      // An address is replaced through verification, never cleared by the user (it is how they recover the account).
      if (patch.email === null && user.email !== null) invalid.push('body.user.email');
      if (patch.email === null) delete patch.email;
      const settingsIn = Array.isArray(input.settings) ? (input.settings as unknown[]) : [];
      if (settingsIn.length > 100) invalid.push('body.user.settings');
      if (invalid.length) throw new AppError('request.invalid', { details: invalid });

      const current = await users.settingsOf(user.id);
      const settingChanges: { id: number; value: string }[] = [];
      for (const [i, raw] of settingsIn.entries()) {
        if (!raw || typeof raw !== 'object') throw new AppError('request.invalid', { details: [`body.user.settings.${i}`] });
        const s = ownProps(raw as Record<string, unknown>);
        const target = current.find(
          (c) => (typeof s.id === 'number' && c.id === s.id) || (c.category === s.category && c.group === s.group && c.name === s.name),
        );
        if (!target) throw new AppError('request.invalid', { details: [`body.user.settings.${i}`], detail: 'unknown setting' });
        if (s.value === undefined || s.value === target.value) continue;
        if (typeof s.value !== 'string' || s.value.length > 2048)
          throw new AppError('request.invalid', { details: [`body.user.settings.${i}.value`] });
        // Why: read-only settings are the organization's; sending them back unchanged is fine, changing them is not.
        if (target.readOnly)
          throw new AppError('request.invalid', { details: [`body.user.settings.${i}.value`], detail: 'read-only setting' });
        settingChanges.push({ id: target.id, value: s.value });
      }

      // Why: an email change is not a profile edit. It needs a signed-in person (never an API key) and
      // takes effect only when the new address proves it is theirs; the old address is told.
      const newEmail = typeof patch.email === 'string' && patch.email !== user.email ? patch.email : undefined;
      delete patch.email;
      if (newEmail !== undefined) authorize(ctx.principal, 'self.change_email', userTarget(user));
      await users.updateOwnProfile(ctx, user, patch, settingChanges);
      if (newEmail !== undefined) {
        if (!deps.seams.emailChange) throw new AppError('mail.not_configured', { details: ['body.user.email'] });
        await deps.seams.emailChange(ctx, user, newEmail);
      }
      let fresh = (await users.lookup.findById(user.id)) as User;
      const extra = deps.seams.mfaUpdate ? await deps.seams.mfaUpdate(ctx, fresh, body) : undefined;
      if (extra) fresh = (await users.lookup.findById(user.id)) as User;
      return view(fresh, extra ?? {});
    },
  };
}
export type AccountService = ReturnType<typeof createAccountService>;
