import { Secret as OtpSecret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/crypto/index.js';
import { startSmtpSink } from '../helpers/smtp.js';
import { buildTestApp, type TestApp, type TestResponse, unique } from '../helpers/test-app.js';

/** @see issue 4 — MFA (TOTP, recovery codes, mfaTempToken), email verification, password reset. */

let t: TestApp;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
/** Every secret, code and token the tests saw; none may appear in the server's logs. */
const seenSecrets: string[] = [];

beforeAll(async () => {
  smtp = await startSmtpSink();
  // The per-address login ceiling is not under test here (a two-step sign-in counts several times).
  t = await buildTestApp({
    PORTCULLIS_SMTP_URL: smtp.url,
    PORTCULLIS_SMTP_FROM: 'Portcullis <auth@portcullis.test>',
    PORTCULLIS_LOGIN_RATE_PER_IP: '1000',
  });
});
afterAll(async () => {
  await t?.close();
  await smtp?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const STEP_MS = 30_000;

/**
 * Codes of an authenticator for `secret`, each of a later time step than the one before (the
 * server accepts every step once). Uses the drift window (previous, current, next step) and
 * waits for the clock when three codes in one step were not enough.
 */
function authenticator(secret: string) {
  let last = Number.NEGATIVE_INFINITY;
  return {
    secret,
    async next(): Promise<string> {
      for (;;) {
        const now = Date.now();
        const current = Math.floor(now / STEP_MS);
        // The previous step is only safe while the current one has a few seconds left.
        const earliest = now % STEP_MS > 25_000 ? current : current - 1;
        const step = Math.max(last + 1, earliest);
        if (step <= current + 1) {
          last = step;
          const code = TOTP.generate({
            secret: OtpSecret.fromBase32(secret),
            algorithm: 'SHA1',
            digits: 6,
            period: 30,
            timestamp: step * STEP_MS,
          });
          seenSecrets.push(code);
          return code;
        }
        await sleep((step - 1) * STEP_MS - now + 100);
      }
    },
  };
}

const expectError = (res: TestResponse, status: number, error: string) => {
  expect(res.status, res.text).toBe(status);
  expect(res.body).toMatchObject({ success: false, status, error });
};

const cookieValue = (res: TestResponse, name: string): string | undefined =>
  res.cookies.map((c) => new RegExp(`^${name}=([^;]*)`).exec(c)?.[1]).find((v) => v !== undefined);

async function login(body: Record<string, unknown>) {
  return t.req('POST', '/v1/auth/login', { json: body });
}

async function passwordToken(user: { email: string; password: string }): Promise<string> {
  const res = await login({ email: user.email, password: user.password });
  expect(res.status, res.text).toBe(200);
  expect(res.body.token).toBeTypeOf('string');
  return res.body.token;
}

/** A user with MFA enrolled through the API, and what enrolment handed out. */
async function enrolledUser(organizationId?: string) {
  // Verified, so that a password reset can mail it.
  const user = await t.createUser({ ...(organizationId ? { organizationId } : {}), emailVerified: true });
  const token = await passwordToken(user);
  const started = await t.req('POST', '/v1/auth/user', { token, json: { regenerateTempMfaSecret: true } });
  expect(started.status, started.text).toBe(200);
  const secret: string = started.body.user.tempOtpSecret;
  const codes: string[] = started.body.user.tempRecoveryCodes;
  seenSecrets.push(secret, ...codes);
  const totp = authenticator(secret);
  const confirmed = await t.req('POST', '/v1/auth/user', { token, json: { otpCode: await totp.next(), user: { mfaEnabled: true } } });
  expect(confirmed.status, confirmed.text).toBe(200);
  expect(confirmed.body.user.mfaEnabled).toBe(true);
  return { ...user, token, secret, codes, totp, started };
}

async function challenge(user: { email: string; password: string }, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await login({ email: user.email, password: user.password, ...extra });
  expect(res.status, res.text).toBe(200);
  expect(res.body.mfaTempToken).toBeTypeOf('string');
  seenSecrets.push(res.body.mfaTempToken);
  return res.body.mfaTempToken;
}

async function auditActions(userId: string): Promise<string[]> {
  const rows = await t.app.services.storage.db.selectFrom('auditEvents').select('action').where('targetId', '=', userId).execute();
  return rows.map((r) => r.action);
}

describe('TOTP enrolment on POST /v1/auth/user', () => {
  it('hands out a temporary secret, recovery codes, an otpauth URI and a QR code; a correct code enables MFA', async () => {
    const user = await t.createUser({});
    const token = await passwordToken(user);
    const started = await t.req('POST', '/v1/auth/user', { token, json: { regenerateTempMfaSecret: true } });
    expect(started.status, started.text).toBe(200);
    const u = started.body.user;
    seenSecrets.push(u.tempOtpSecret, ...u.tempRecoveryCodes);
    expect(u.tempOtpSecret).toMatch(/^[A-Z2-7]{32,}$/); // ≥ 160 bits of base32
    expect(u.tempRecoveryCodes).toHaveLength(10);
    for (const c of u.tempRecoveryCodes) expect(c).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    expect(new Set(u.tempRecoveryCodes).size).toBe(10);
    expect(Math.abs(Date.parse(u.tempOtpSecretCreatedTime) - Date.now())).toBeLessThan(60_000);
    expect(u.otpAuthUri).toMatch(/^otpauth:\/\/totp\/Portcullis:/);
    expect(u.otpAuthUri).toContain(`secret=${u.tempOtpSecret}`);
    expect(u.qrCodeDataUrl).toMatch(/^data:image\/png;base64,[A-Za-z0-9+/=]+$/);
    expect(u.mfaEnabled).toBe(false);

    // A wrong code changes nothing.
    const wrong = await t.req('POST', '/v1/auth/user', { token, json: { otpCode: '000000', user: { mfaEnabled: true } } });
    expectError(wrong, 401, 'auth.invalid_mfa_code');
    expect((await t.req('GET', '/v1/auth/user', { token })).body.user.mfaEnabled).toBe(false);

    const totp = authenticator(u.tempOtpSecret);
    const confirmed = await t.req('POST', '/v1/auth/user', { token, json: { otpCode: await totp.next(), user: { mfaEnabled: true } } });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body.user).toMatchObject({ mfaEnabled: true, recoveryCodesRemaining: 10 });
    expect(confirmed.body.user.tempOtpSecret).toBeUndefined();
    expect(confirmed.body.user.tempRecoveryCodes).toBeUndefined();

    // Never shown again, and stored sealed under the master key.
    const me = await t.req('GET', '/v1/auth/user', { token });
    expect(me.body.user).toMatchObject({ mfaEnabled: true, recoveryCodesRemaining: 10 });
    for (const key of ['tempOtpSecret', 'tempRecoveryCodes', 'tempOtpSecretCreatedTime', 'otpAuthUri', 'qrCodeDataUrl']) {
      expect(me.body.user[key]).toBeUndefined();
    }
    expect(me.text).not.toContain(u.tempOtpSecret);
    const row = await t.app.services.storage.db.selectFrom('userMfa').selectAll().where('userId', '=', user.id).executeTakeFirstOrThrow();
    expect(row.secretSealed).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain(u.tempOtpSecret);
    const codeRows = await t.app.services.storage.db.selectFrom('mfaRecoveryCodes').selectAll().where('userId', '=', user.id).execute();
    expect(codeRows).toHaveLength(10);
    for (const c of u.tempRecoveryCodes) expect(JSON.stringify(codeRows)).not.toContain(c);

    // Seed 001 clients send the whole user back: nothing changes, nothing is refused.
    const roundTrip = await t.req('POST', '/v1/auth/user', { token, json: { user: me.body.user } });
    expect(roundTrip.status, roundTrip.text).toBe(200);
    expect(roundTrip.body.user.mfaEnabled).toBe(true);

    expect(await auditActions(user.id)).toEqual(expect.arrayContaining(['mfa.enrollment_started', 'mfa.code_failed', 'mfa.enrolled']));
  });

  it('refuses a confirmation without a pending secret, and one whose temporary secret expired', async () => {
    const user = await t.createUser({});
    const token = await passwordToken(user);
    expectError(
      await t.req('POST', '/v1/auth/user', { token, json: { otpCode: '123456', user: { mfaEnabled: true } } }),
      400,
      'mfa.no_pending_enrollment',
    );
    const started = await t.req('POST', '/v1/auth/user', { token, json: { regenerateTempMfaSecret: true } });
    seenSecrets.push(started.body.user.tempOtpSecret);
    await t.app.services.storage.db
      .updateTable('userMfa')
      .set({ pendingCreatedAt: new Date(Date.now() - 11 * 60_000).toISOString() })
      .where('userId', '=', user.id)
      .execute();
    const code = await authenticator(started.body.user.tempOtpSecret).next();
    expectError(
      await t.req('POST', '/v1/auth/user', { token, json: { otpCode: code, user: { mfaEnabled: true } } }),
      400,
      'mfa.no_pending_enrollment',
    );
    expect((await t.req('GET', '/v1/auth/user', { token })).body.user.mfaEnabled).toBe(false);
  });

  it('asks for the current factor before replacing an enrolled secret', async () => {
    const user = await enrolledUser();
    const bare = await t.req('POST', '/v1/auth/user', { token: user.token, json: { regenerateTempMfaSecret: true } });
    expectError(bare, 400, 'request.invalid');
    const wrong = await t.req('POST', '/v1/auth/user', { token: user.token, json: { regenerateTempMfaSecret: true, otpCode: '000000' } });
    expectError(wrong, 401, 'auth.invalid_mfa_code');
    const ok = await t.req('POST', '/v1/auth/user', {
      token: user.token,
      json: { regenerateTempMfaSecret: true, otpCode: await user.totp.next() },
    });
    expect(ok.status, ok.text).toBe(200);
    seenSecrets.push(ok.body.user.tempOtpSecret, ...ok.body.user.tempRecoveryCodes);
    expect(ok.body.user.tempOtpSecret).not.toBe(user.secret);
  });
});

describe('two-step sign-in', () => {
  it('answers only mfaTempToken to the password step (no token, no cookies, even with web), then cookies on the second step', async () => {
    const user = await enrolledUser();
    const first = await login({ email: user.email, password: user.password, web: true });
    expect(first.status, first.text).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(['code', 'message', 'mfaTempToken', 'success']);
    expect(first.body).toMatchObject({ success: true, code: 0 });
    expect(first.cookies).toEqual([]);
    seenSecrets.push(first.body.mfaTempToken);

    // Sent as `curl -d` does (form content type, JSON body) with only the fields Bytebase's client sends.
    const second = await t.req('POST', '/v1/auth/login', {
      body: JSON.stringify({ mfaTempToken: first.body.mfaTempToken, otpCode: await user.totp.next(), web: true }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(second.status, second.text).toBe(200);
    expect(second.body.token).toBeUndefined();
    const access = cookieValue(second, 'access-token');
    expect(access).toBeTruthy();
    expect(cookieValue(second, 'refresh-token')).toBeTruthy();
    expect(decodeURIComponent(cookieValue(second, 'user') ?? '')).toBe(`users/${user.id}`);
    const me = await t.req('GET', '/v1/auth/user', { headers: { cookie: `access-token=${access}` } });
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(user.id);
  });

  it('completes with a TOTP code in API mode (username sign-in too)', async () => {
    const user = await enrolledUser();
    const temp = await challenge({ email: user.email, password: user.password });
    const done = await login({ mfaTempToken: temp, otpCode: await user.totp.next() });
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ success: true, code: 0, token: expect.any(String), refreshToken: expect.any(String) });
    expect(done.body.user.id).toBe(user.id);

    const byName = await login({ username: user.userName, password: user.password });
    expect(byName.body.mfaTempToken).toBeTypeOf('string');
    expect(byName.body.token).toBeUndefined();
  });

  it('completes with a recovery code, once: the same code is refused afterwards', async () => {
    const user = await enrolledUser();
    const code = user.codes[3]!;
    const done = await login({ mfaTempToken: await challenge(user), recoveryCode: code.toLowerCase() });
    expect(done.status, done.text).toBe(200);
    expect(done.body.token).toBeTypeOf('string');
    const me = await t.req('GET', '/v1/auth/user', { token: done.body.token });
    expect(me.body.user.recoveryCodesRemaining).toBe(9);
    expect(await auditActions(user.id)).toContain('mfa.recovery_code_used');

    const again = await login({ mfaTempToken: await challenge(user), recoveryCode: code });
    expectError(again, 401, 'auth.invalid_mfa_code');
  });

  it('signs in in one step with password and otpCode; a wrong code there is refused', async () => {
    const user = await enrolledUser();
    const wrong = await login({ email: user.email, password: user.password, otpCode: '000000' });
    expectError(wrong, 401, 'auth.invalid_mfa_code');
    const one = await login({ email: user.email, password: user.password, otpCode: await user.totp.next() });
    expect(one.status, one.text).toBe(200);
    expect(one.body.token).toBeTypeOf('string');
    expect(one.body.mfaTempToken).toBe('');
  });

  it('refuses a replayed TOTP code; of two concurrent submissions of one code exactly one wins', async () => {
    const user = await enrolledUser();
    const code = await user.totp.next();
    expect((await login({ mfaTempToken: await challenge(user), otpCode: code })).status).toBe(200);
    expectError(await login({ mfaTempToken: await challenge(user), otpCode: code }), 401, 'auth.invalid_mfa_code');

    const fresh = await user.totp.next();
    const [a, b] = [await challenge(user), await challenge(user)];
    const results = await Promise.all([login({ mfaTempToken: a, otpCode: fresh }), login({ mfaTempToken: b, otpCode: fresh })]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('refuses a used, an expired and an unknown mfaTempToken', async () => {
    const user = await enrolledUser();
    const temp = await challenge(user);
    expect((await login({ mfaTempToken: temp, otpCode: await user.totp.next() })).status).toBe(200);
    expectError(await login({ mfaTempToken: temp, recoveryCode: user.codes[0] }), 401, 'auth.invalid_token');

    const expired = await challenge(user);
    await t.app.services.storage.db
      .updateTable('mfaChallenges')
      .set({ expiresAt: new Date(Date.now() - 1000).toISOString() })
      .where('tokenHash', '=', sha256Hex(expired))
      .execute();
    expectError(await login({ mfaTempToken: expired, recoveryCode: user.codes[0] }), 401, 'auth.invalid_token');
    expectError(await login({ mfaTempToken: 'x'.repeat(43), otpCode: '123456' }), 401, 'auth.invalid_token');
    // The refused attempts used no recovery code.
    expect((await t.req('GET', '/v1/auth/user', { token: user.token })).body.user.recoveryCodesRemaining).toBe(10);
    // The challenge lasts five minutes.
    const row = await t.app.services.storage.db
      .selectFrom('mfaChallenges')
      .selectAll()
      .where('tokenHash', '=', sha256Hex(await challenge(user)))
      .executeTakeFirstOrThrow();
    expect(Date.parse(row.expiresAt) - Date.parse(row.createdAt)).toBe(300_000);
  });

  it('kills an mfaTempToken after 5 wrong codes, and counts wrong codes toward the account throttle', async () => {
    const user = await enrolledUser();
    const temp = await challenge(user);
    for (let i = 0; i < 5; i++) expectError(await login({ mfaTempToken: temp, otpCode: '000000' }), 401, 'auth.invalid_mfa_code');
    expectError(await login({ mfaTempToken: temp, otpCode: await user.totp.next() }), 401, 'auth.invalid_token');
    expect(await auditActions(user.id)).toContain('mfa.challenge_exhausted');

    // A correct password does not clear the MFA failures: the next wrong code starts a back-off (1 s).
    const again = await challenge(user);
    // The right code is taken first: waiting for a fresh time step must not outlast the back-off.
    const right = await user.totp.next();
    expectError(await login({ mfaTempToken: again, otpCode: '000000' }), 401, 'auth.invalid_mfa_code');
    const throttled = await login({ mfaTempToken: again, otpCode: right });
    expectError(throttled, 429, 'rate.limited');
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('recovery codes and disabling', () => {
  it('regenerates recovery codes with a current otpCode; the old set dies', async () => {
    const user = await enrolledUser();
    expectError(
      await t.req('POST', '/v1/auth/user', { token: user.token, json: { regenerateRecoveryCodes: true } }),
      400,
      'request.invalid',
    );
    expectError(
      await t.req('POST', '/v1/auth/user', { token: user.token, json: { regenerateRecoveryCodes: true, otpCode: '000000' } }),
      401,
      'auth.invalid_mfa_code',
    );
    const res = await t.req('POST', '/v1/auth/user', {
      token: user.token,
      json: { regenerateRecoveryCodes: true, otpCode: await user.totp.next() },
    });
    expect(res.status, res.text).toBe(200);
    const fresh: string[] = res.body.user.tempRecoveryCodes;
    seenSecrets.push(...fresh);
    expect(fresh).toHaveLength(10);
    expect(fresh.some((c) => user.codes.includes(c))).toBe(false);
    expect(res.body.user.recoveryCodesRemaining).toBe(10);

    expectError(await login({ mfaTempToken: await challenge(user), recoveryCode: user.codes[0] }), 401, 'auth.invalid_mfa_code');
    expect((await login({ mfaTempToken: await challenge(user), recoveryCode: fresh[0] })).status).toBe(200);
    expect((await t.req('GET', '/v1/auth/user', { token: user.token })).body.user.recoveryCodesRemaining).toBe(9);
  });

  it('disables MFA with a code (not without), mails a notice, and sign-in is one step again', async () => {
    const user = await enrolledUser();
    expectError(await t.req('POST', '/v1/auth/user', { token: user.token, json: { user: { mfaEnabled: false } } }), 400, 'request.invalid');
    expectError(
      await t.req('POST', '/v1/auth/user', {
        token: user.token,
        json: { recoveryCode: 'AAAA-BBBB-CCCC-DDDD', user: { mfaEnabled: false } },
      }),
      401,
      'auth.invalid_mfa_code',
    );
    const off = await t.req('POST', '/v1/auth/user', {
      token: user.token,
      json: { recoveryCode: user.codes[9], user: { mfaEnabled: false } },
    });
    expect(off.status, off.text).toBe(200);
    expect(off.body.user.mfaEnabled).toBe(false);
    expect(off.body.user.recoveryCodesRemaining).toBeUndefined();
    const mail = await smtp.waitFor((m) => m.to.includes(user.email) && /turned off/i.test(m.subject));
    expect(mail.text).toContain(user.userName);
    // The notice goes out in the background; its audit record follows the delivery.
    await expect.poll(() => auditActions(user.id), { timeout: 5000 }).toEqual(expect.arrayContaining(['mfa.disabled', 'mail.sent']));

    const res = await login({ email: user.email, password: user.password });
    expect(res.body.token).toBeTypeOf('string');
    expect(res.body.mfaTempToken).toBe('');
    const rows = await t.app.services.storage.db.selectFrom('mfaRecoveryCodes').selectAll().where('userId', '=', user.id).execute();
    expect(rows).toEqual([]);
  });
});

describe('organization policy requireMfa', () => {
  it('gives a member without MFA an enrolment-only session and says so; after enrolment sign-in asks for the code', async () => {
    const orgId = (await t.app.services.organizations.create(t.context(), { name: unique('mfaorg'), policy: { requireMfa: true } })).id;
    const user = await t.createUser({ organizationId: orgId });
    const res = await login({ email: user.email, password: user.password });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ requireMfaEnrollment: true, token: expect.any(String) });
    const token = res.body.token;
    expectError(await t.req('GET', '/v1/users', { token }), 403, 'auth.mfa_enrollment_required');
    expect((await t.req('GET', '/v1/auth/user', { token })).status).toBe(200);

    const started = await t.req('POST', '/v1/auth/user', { token, json: { regenerateTempMfaSecret: true } });
    expect(started.status, started.text).toBe(200);
    seenSecrets.push(started.body.user.tempOtpSecret, ...started.body.user.tempRecoveryCodes);
    const totp = authenticator(started.body.user.tempOtpSecret);
    const confirmed = await t.req('POST', '/v1/auth/user', { token, json: { otpCode: await totp.next(), user: { mfaEnabled: true } } });
    expect(confirmed.status, confirmed.text).toBe(200);

    const temp = await challenge(user);
    const done = await login({ mfaTempToken: temp, otpCode: await totp.next() });
    expect(done.status, done.text).toBe(200);
    expect(done.body.requireMfaEnrollment).toBeUndefined();
    const after = await t.req('GET', '/v1/users', { token: done.body.token });
    expect(after.body.error).not.toBe('auth.mfa_enrollment_required');
  });
});

describe('email verification', () => {
  it('mails a code that verifies the address once', async () => {
    const user = await t.createUser({});
    const token = await passwordToken(user);
    const sent = await t.req('POST', '/v1/auth/email/verify/request', { token });
    expect(sent.status, sent.text).toBe(200);
    expect(sent.body).toMatchObject({ success: true, code: 0, sent: true });
    const mail = await smtp.waitFor((m) => m.to.includes(user.email) && /verify/i.test(m.subject));
    expect(mail.raw.from?.text).toContain('auth@portcullis.test');
    const code = /Verification code: (\S+)/.exec(mail.text)?.[1];
    expect(code).toBeTruthy();
    seenSecrets.push(code!);

    expectError(await t.req('POST', '/v1/auth/email/verify', { json: { code: 'nope'.repeat(8) } }), 401, 'auth.invalid_token');
    const ok = await t.req('POST', '/v1/auth/email/verify', { json: { code } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ success: true, emailVerified: true });
    expect((await t.req('GET', '/v1/auth/user', { token })).body.user.emailVerified).toBe(true);
    expectError(await t.req('POST', '/v1/auth/email/verify', { json: { code } }), 401, 'auth.invalid_token');
    expect((await t.req('POST', '/v1/auth/email/verify/request', { token })).body.sent).toBe(false);
    expect(await auditActions(user.id)).toEqual(expect.arrayContaining(['mail.sent', 'user.email_verified']));
  });

  it('needs a signed-in user to send', async () => {
    expectError(await t.req('POST', '/v1/auth/email/verify/request'), 401, 'auth.unauthenticated');
  });
});

describe('password reset', () => {
  const resetMail = (email: string, after: number) =>
    smtp.waitFor((m) => m.to.includes(email) && m.subject === 'Reset your password' && smtp.messages.indexOf(m) >= after);
  const tokenIn = (text: string): string => {
    const token = /Reset token: (\S+)/.exec(text)?.[1];
    expect(token).toBeTruthy();
    seenSecrets.push(token!);
    return token!;
  };

  it('answers the same for known and unknown accounts, and mails only the known one', async () => {
    const user = await t.createUser({ emailVerified: true });
    const before = smtp.messages.length;
    const known = await t.req('POST', '/v1/auth/password/reset/request', { json: { email: user.email.toUpperCase() } });
    const unknownEmail = `${unique('ghost')}@example.test`;
    const unknown = await t.req('POST', '/v1/auth/password/reset/request', { json: { email: unknownEmail } });
    const byName = await t.req('POST', '/v1/auth/password/reset/request', { json: { username: unique('ghost') } });
    for (const r of [known, unknown, byName]) expect(r.status, r.text).toBe(200);
    expect(unknown.text).toBe(known.text);
    expect(byName.text).toBe(known.text);
    await resetMail(user.email, before);
    await sleep(300);
    expect(smtp.messages.some((m) => m.to.includes(unknownEmail))).toBe(false);
    expectError(await t.req('POST', '/v1/auth/password/reset/request', { json: {} }), 400, 'request.invalid');
  });

  it('resets with the mailed token: policy applies, every session ends, the token works once, MFA stays required', async () => {
    const user = await enrolledUser();
    const session = await login({ mfaTempToken: await challenge(user), otpCode: await user.totp.next() });
    expect(session.status).toBe(200);
    const pending = await challenge(user);
    const before = smtp.messages.length;
    expect((await t.req('POST', '/v1/auth/password/reset/request', { json: { username: user.userName } })).status).toBe(200);
    const token = tokenIn((await resetMail(user.email, before)).text);

    expectError(
      await t.req('POST', '/v1/auth/password/reset', { json: { token, newPassword: 'short' } }),
      400,
      'password.policy_violation',
    );
    const newPassword = `new-${unique('pw')}-Secret!`;
    seenSecrets.push(newPassword);
    const ok = await t.req('POST', '/v1/auth/password/reset', { json: { token, newPassword } });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body).toMatchObject({ success: true, code: 0 });
    expectError(
      await t.req('POST', '/v1/auth/password/reset', { json: { token, newPassword: `${newPassword}2` } }),
      401,
      'auth.invalid_token',
    );

    // Every session ended: the access tokens and the refresh token are dead.
    expectError(await t.req('GET', '/v1/auth/user', { token: user.token }), 401, 'auth.invalid_credentials');
    expectError(await t.req('GET', '/v1/auth/user', { token: session.body.token }), 401, 'auth.invalid_credentials');
    expect((await t.req('POST', '/v1/auth/refresh', { json: { refreshToken: session.body.refreshToken } })).status).toBe(401);
    // A sign-in that passed the old password cannot finish.
    expectError(await login({ mfaTempToken: pending, recoveryCode: user.codes[0] }), 401, 'auth.invalid_token');

    expectError(await login({ email: user.email, password: user.password }), 401, 'auth.invalid_credentials');
    const next = await login({ email: user.email, password: newPassword });
    expect(next.status).toBe(200);
    expect(next.body.mfaTempToken).toBeTypeOf('string');
    expect(next.body.token).toBeUndefined();
    seenSecrets.push(next.body.mfaTempToken);

    await smtp.waitFor((m) => m.to.includes(user.email) && /password was changed/i.test(m.subject) && /was reset/.test(m.text));
    expect(await auditActions(user.id)).toEqual(expect.arrayContaining(['user.password_reset_requested', 'user.password_reset']));
  });

  it('refuses an expired token and an older token once a newer one was sent', async () => {
    const user = await t.createUser({ emailVerified: true });
    let before = smtp.messages.length;
    await t.req('POST', '/v1/auth/password/reset/request', { json: { email: user.email } });
    const first = tokenIn((await resetMail(user.email, before)).text);
    before = smtp.messages.length;
    await t.req('POST', '/v1/auth/password/reset/request', { json: { email: user.email } });
    const second = tokenIn((await resetMail(user.email, before)).text);
    const newPassword = `new-${unique('pw')}-Secret!`;
    expectError(await t.req('POST', '/v1/auth/password/reset', { json: { token: first, newPassword } }), 401, 'auth.invalid_token');
    const row = await t.app.services.storage.db
      .selectFrom('emailTokens')
      .selectAll()
      .where('tokenHash', '=', sha256Hex(second))
      .executeTakeFirstOrThrow();
    expect(Date.parse(row.expiresAt) - Date.parse(row.createdAt)).toBe(30 * 60_000);
    await t.app.services.storage.db
      .updateTable('emailTokens')
      .set({ expiresAt: new Date(Date.now() - 1000).toISOString() })
      .where('tokenHash', '=', sha256Hex(second))
      .execute();
    expectError(await t.req('POST', '/v1/auth/password/reset', { json: { token: second, newPassword } }), 401, 'auth.invalid_token');
    expect((await login({ email: user.email, password: user.password })).status).toBe(200);
  });

  it('throttles requests per account alike for known and unknown accounts', async () => {
    const user = await t.createUser({});
    const ghost = `${unique('ghost')}@example.test`;
    for (const email of [user.email, ghost]) {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await t.req('POST', '/v1/auth/password/reset/request', { json: { email } })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    }
  });
});

describe('notification mails', () => {
  it('mails a notice when the password is changed by its user or set by an administrator', async () => {
    const user = await t.createUser({});
    const token = await passwordToken(user);
    const newPassword = `changed-${unique('pw')}-Secret!`;
    const changed = await t.req('POST', '/v1/auth/password', { token, json: { currentPassword: user.password, newPassword } });
    expect(changed.status, changed.text).toBe(200);
    await smtp.waitFor((m) => m.to.includes(user.email) && /was changed at/.test(m.text));

    const stored = (await t.app.services.users.lookup.findById(user.id))!;
    await t.app.services.users.setPassword(t.context(), stored, `admin-${unique('pw')}-Secret!`, { revokeAccess: false });
    await smtp.waitFor((m) => m.to.includes(user.email) && /set by an administrator/.test(m.text));
  });
});

describe('OpenAPI', () => {
  it('documents the new routes with response schemas, and the login field for enrolment', async () => {
    const doc = (await t.req('GET', '/openapi.json')).body;
    for (const path of [
      '/v1/auth/email/verify/request',
      '/v1/auth/email/verify',
      '/v1/auth/password/reset/request',
      '/v1/auth/password/reset',
    ]) {
      expect(doc.paths[path]?.post?.responses?.['200'], path).toBeDefined();
    }
    const ok = doc.paths['/v1/auth/login'].post.responses['200'].content['application/json'].schema;
    const schema = ok.$ref ? doc.components.schemas[ok.$ref.split('/').pop()] : ok;
    expect(JSON.stringify(schema)).toContain('requireMfaEnrollment');
  });
});

describe('logs', () => {
  /** Whether the logs hold `s` (six-digit codes could occur inside timestamps: whole words only). */
  const inLogs = (logs: string, s: string): boolean =>
    /^\d{6}$/.test(s) ? new RegExp(`(?<![0-9A-Za-z])${s}(?![0-9A-Za-z])`).test(logs) : logs.includes(s);

  it('never contain a secret, a code or a token', async () => {
    // Its own flows, so that the check stands alone and in any order: every kind of secret the MFA
    // routes take or hand out passes through a logged request here.
    const mine: string[] = [];
    const user = await enrolledUser();
    mine.push(user.password, user.token, user.secret, ...user.codes);
    const temp = await challenge(user);
    const otp = await user.totp.next();
    const byOtp = await login({ mfaTempToken: temp, otpCode: otp });
    expect(byOtp.status, byOtp.text).toBe(200);
    mine.push(temp, otp, byOtp.body.token, byOtp.body.refreshToken);
    const refreshed = await t.req('POST', '/v1/auth/refresh', { json: { refreshToken: byOtp.body.refreshToken } });
    expect(refreshed.status, refreshed.text).toBe(200);
    mine.push(refreshed.body.token, refreshed.body.refreshToken);
    const temp2 = await challenge(user);
    const byRecovery = await login({ mfaTempToken: temp2, recoveryCode: user.codes[0] });
    expect(byRecovery.status, byRecovery.text).toBe(200);
    mine.push(temp2, byRecovery.body.token);

    const unverified = await t.createUser({});
    const unverifiedToken = await passwordToken(unverified);
    mine.push(unverified.password, unverifiedToken);
    expect((await t.req('POST', '/v1/auth/email/verify/request', { token: unverifiedToken })).status).toBe(200);
    const verifyMail = await smtp.waitFor((m) => m.to.includes(unverified.email) && /verify/i.test(m.subject));
    const verifyCode = /Verification code: (\S+)/.exec(verifyMail.text)?.[1] ?? '';
    expect((await t.req('POST', '/v1/auth/email/verify', { json: { code: verifyCode } })).status).toBe(200);
    mine.push(verifyCode);

    const before = smtp.messages.length;
    expect((await t.req('POST', '/v1/auth/password/reset/request', { json: { email: user.email } })).status).toBe(200);
    const resetMail = await smtp.waitFor(
      (m) => m.to.includes(user.email) && m.subject === 'Reset your password' && smtp.messages.indexOf(m) >= before,
    );
    const resetToken = /Reset token: (\S+)/.exec(resetMail.text)?.[1] ?? '';
    const newPassword = `new-${unique('pw')}-Secret!`;
    expect((await t.req('POST', '/v1/auth/password/reset', { json: { token: resetToken, newPassword } })).status).toBe(200);
    mine.push(resetToken, newPassword);

    const logs = t.logs();
    // The requests above were logged: the check looks at the lines where a leak would be.
    for (const path of ['/v1/auth/login', '/v1/auth/refresh', '/v1/auth/email/verify', '/v1/auth/password/reset']) {
      expect(logs).toContain(`"url":"${path}"`);
    }
    expect(new Set(mine).size).toBe(26);
    for (const s of mine) expect(typeof s === 'string' && s.length >= 6, `a secret of the flow is missing: ${s}`).toBe(true);
    seenSecrets.push(...mine);
    // Everything the other tests of this file saw, too, whichever of them ran before.
    for (const s of seenSecrets) expect(inLogs(logs, s), `log contains ${s.slice(0, 4)}…`).toBe(false);
  });
});
