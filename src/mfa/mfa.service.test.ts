import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditRepo } from '../audit/audit.repo.js';
import { type AuditListener, createAuditService } from '../audit/audit.service.js';
import type { RequestContext } from '../auth/principal.js';
import { loadConfig } from '../config/index.js';
import { createMasterKeyring, createPasswordHasher, Secret, sha256Hex } from '../crypto/index.js';
import { totpCode } from '../crypto/totp/totp.js';
import { AppError } from '../errors/index.js';
import { createEventBus } from '../events/index.js';
import { DEFAULT_POLICY } from '../identity/organizations/organization-policy.js';
import { createOrganizationsRepo } from '../identity/organizations/organizations.repo.js';
import { createOrganizationsService } from '../identity/organizations/organizations.service.js';
import { createSettingsRepo } from '../identity/users/settings.repo.js';
import { createUsersRepo, type User } from '../identity/users/users.repo.js';
import { createUsersService } from '../identity/users/users.service.js';
import { silentLogger } from '../log/index.js';
import { createLoginThrottle } from '../sessions/throttle.js';
import { createMemoryState } from '../state/shared-state.js';
import { createStorage, type Storage } from '../storage/index.js';
import { createNotifier } from './email/notify.js';
import { createMfaRepo } from './mfa.repo.js';
import { createMfaService, type MfaService } from './mfa.service.js';

/** The service on in-memory SQLite with a fixed clock: every time-dependent rule at its boundary. */
const T0 = Date.parse('2026-01-01T00:00:10Z'); // 10 s into a 30-s step
/** The signed-in user's own request at `ms` (MFA changes need the user's interactive session). */
const at = (ms: number): RequestContext => ({
  principal: user
    ? {
        kind: 'user',
        userId: user.id,
        organizationId: user.organizationId,
        roles: user.roles,
        scopes: new Set(),
        isSuperadmin: false,
        via: 'bearer',
      }
    : undefined,
  ip: '192.0.2.1',
  requestId: 'unit',
  userAgent: undefined,
  now: new Date(ms),
});

let storage: Storage;
let mfa: MfaService;
let user: User;
let events: { action: string; data: Record<string, unknown> }[];

const reload = async (): Promise<User> => (await createUsersRepo(storage.db).findById(user.id))!;
const failureReasons = () => events.filter((e) => e.action === 'mfa.code_failed').map((e) => e.data.reason);
async function rejection(p: Promise<unknown>): Promise<AppError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

/** Enrols at `T0` and answers the active secret and recovery codes. */
async function enrol(): Promise<{ secret: string; codes: string[] }> {
  const started = await mfa.mfaUpdate(at(T0), user, { regenerateTempMfaSecret: true });
  const secret = started!.tempOtpSecret!;
  await mfa.mfaUpdate(at(T0), user, { otpCode: totpCode(secret, T0), user: { mfaEnabled: true } });
  user = await reload();
  return { secret, codes: started!.tempRecoveryCodes! };
}

beforeEach(async () => {
  storage = createStorage({ url: 'sqlite::memory:', dataDir: '/tmp/portcullis-unit-unused' });
  await storage.migrate();
  // Repos on the executor join the users service's transaction (SQLite has one connection).
  const db = storage.executor;
  events = [];
  const onEvent: AuditListener = (e) => events.push({ action: e.action, data: e.data });
  const audit = createAuditService({ repo: createAuditRepo(db), onEvent });
  const organizations = createOrganizationsService({ repo: createOrganizationsRepo(db), audit });
  const hasher = createPasswordHasher({ memoryKiB: 64, timeCost: 1, parallelism: 1, concurrency: 2 });
  const users = createUsersService({
    transaction: storage.transaction,
    repo: createUsersRepo(db),
    settings: createSettingsRepo(db),
    organizations,
    hasher,
    audit,
    events: createEventBus({ state: createMemoryState(), log: silentLogger }),
    revokeOnPasswordSet: true,
  });
  const superadmin: RequestContext = {
    ...at(T0),
    principal: {
      kind: 'user',
      userId: 'root',
      organizationId: 'none',
      roles: ['superadmin'],
      scopes: new Set(['organizations:write']),
      isSuperadmin: true,
      via: 'bearer',
    },
  };
  const org = await organizations.create(superadmin, { name: 'unit' });
  user = (await users.provision(undefined, { userName: 'ann', email: 'ann@example.test', organizationId: org.id }, 'identity_provider'))
    .user;
  mfa = createMfaService({
    transaction: storage.transaction,
    repo: createMfaRepo(db),
    keyring: createMasterKeyring(new Secret(randomBytes(32))),
    users,
    organizations,
    throttle: createLoginThrottle(createMemoryState(), { perIpPerMinute: 0, freeFailures: 100, maxBackoffSeconds: 60 }),
    audit,
    notifier: createNotifier({ mailer: { enabled: false, send: async () => {}, close: () => {} }, audit, onError: () => {} }),
    options: loadConfig({}).mfa,
  });
});
afterEach(async () => {
  await storage.close();
});

describe('enrolment', () => {
  it('keeps the temporary secret for 10 minutes, not a moment longer', async () => {
    const started = await mfa.mfaUpdate(at(T0), user, { regenerateTempMfaSecret: true });
    const secret = started!.tempOtpSecret!;
    const late = T0 + 600_000;
    const err = await rejection(mfa.mfaUpdate(at(late), user, { otpCode: totpCode(secret, late), user: { mfaEnabled: true } }));
    expect(err.code).toBe('mfa.no_pending_enrollment');
    const inTime = T0 + 599_000;
    await mfa.mfaUpdate(at(inTime), user, { otpCode: totpCode(secret, inTime), user: { mfaEnabled: true } });
    expect((await reload()).mfaEnabled).toBe(true);
  });

  it('ignores an unchanged mfaEnabled sent back with the whole user', async () => {
    await enrol();
    expect(await mfa.mfaUpdate(at(T0 + 1000), user, { user: { mfaEnabled: true, userName: 'ann' } })).toBeUndefined();
    expect(await mfa.mfaUpdate(at(T0 + 1000), user, {})).toBeUndefined();
  });
});

describe('TOTP verification', () => {
  it('accepts one step of drift each way, each step once, and never a step older than the last one', async () => {
    const { secret } = await enrol(); // used the step of T0
    const now = T0 + 30_000; // step S+1
    const verify = (code: string) => mfa.verifyFactor(at(now), user, { otpCode: code }, { allowRecovery: false });

    expect((await rejection(verify(totpCode(secret, now + 60_000)))).code).toBe('auth.invalid_mfa_code'); // S+3: too far ahead
    expect((await rejection(verify(totpCode(secret, T0)))).code).toBe('auth.invalid_mfa_code'); // S: already used
    expect(await verify(totpCode(secret, now))).toBe('totp'); // S+1
    expect((await rejection(verify(totpCode(secret, now)))).code).toBe('auth.invalid_mfa_code'); // replay
    expect(await verify(totpCode(secret, now + 30_000))).toBe('totp'); // S+2: next step, within drift
    expect(failureReasons()).toEqual(['wrong_totp', 'replayed_totp', 'replayed_totp']);
  });

  it('lets exactly one of two concurrent submissions of one code through', async () => {
    const { secret } = await enrol();
    const now = T0 + 30_000;
    const code = totpCode(secret, now);
    const results = await Promise.allSettled(
      [1, 2, 3].map(() => mfa.verifyFactor(at(now), user, { otpCode: code }, { allowRecovery: false })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('stores the secret sealed, readable only with the master key', async () => {
    const { secret } = await enrol();
    const row = await createMfaRepo(storage.db).findByUserId(user.id);
    expect(row?.secretSealed).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(secret);
  });
});

describe('recovery codes', () => {
  it('uses a code once, even under concurrency, and audits the use with the remaining count', async () => {
    const { codes } = await enrol();
    const code = codes[0]!;
    const results = await Promise.allSettled(
      [1, 2].map(() => mfa.verifyFactor(at(T0 + 1000), user, { recoveryCode: code }, { allowRecovery: true })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(events.find((e) => e.action === 'mfa.recovery_code_used')?.data).toEqual({ remaining: 9 });
    expect(await mfa.userExtras(await reload())).toEqual({ recoveryCodesRemaining: 9 });
  });

  it('are refused where only a TOTP code counts (regenerating codes)', async () => {
    const { codes } = await enrol();
    const err = await rejection(mfa.mfaUpdate(at(T0 + 1000), user, { regenerateRecoveryCodes: true, recoveryCode: codes[1] }));
    expect(err.code).toBe('request.invalid');
  });
});

describe('mfaTempToken', () => {
  const challengeAt = async (ms: number) => {
    const res = await mfa.secondFactor(at(ms), user, { username: 'ann' });
    expect(res && 'mfaTempToken' in res).toBe(true);
    return (res as { mfaTempToken: string }).mfaTempToken;
  };

  it('lives 5 minutes', async () => {
    const { secret } = await enrol();
    const late = await challengeAt(T0);
    const end = T0 + 300_000;
    const err = await rejection(mfa.completeMfa(at(end), { mfaTempToken: late, otpCode: totpCode(secret, end) }));
    expect(err.code).toBe('auth.invalid_token');
    const fresh = await challengeAt(T0);
    const inTime = T0 + 299_000;
    expect((await mfa.completeMfa(at(inTime), { mfaTempToken: fresh, otpCode: totpCode(secret, inTime) })).id).toBe(user.id);
  });

  it('is stored hashed and dies at the fifth wrong code', async () => {
    const { secret } = await enrol();
    const token = await challengeAt(T0);
    const repo = createMfaRepo(storage.db);
    expect(await repo.findChallenge(token)).toBeUndefined();
    expect((await repo.findChallenge(sha256Hex(token)))?.userId).toBe(user.id);
    for (let i = 0; i < 5; i++) {
      const err = await rejection(mfa.completeMfa(at(T0 + 1000), { mfaTempToken: token, otpCode: '000000' }));
      expect(err.code).toBe('auth.invalid_mfa_code');
    }
    const now = T0 + 30_000;
    const err = await rejection(mfa.completeMfa(at(now), { mfaTempToken: token, otpCode: totpCode(secret, now) }));
    expect(err.code).toBe('auth.invalid_token');
    expect(events.map((e) => e.action)).toContain('mfa.challenge_exhausted');
  });

  it('is not issued to users without MFA; requireMfa turns that into an enrolment restriction', async () => {
    expect(await mfa.secondFactor(at(T0), user, { username: 'ann' })).toBeUndefined();
    await createOrganizationsRepo(storage.db).updateById(user.organizationId, {
      policy: { ...DEFAULT_POLICY, requireMfa: true },
      updatedAt: new Date(T0).toISOString(),
    });
    expect(await mfa.secondFactor(at(T0), user, { username: 'ann' })).toEqual({ restriction: 'mfa_enroll' });
  });
});
