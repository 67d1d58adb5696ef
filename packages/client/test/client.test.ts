import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, unique } from '../../../test/helpers/test-app.js';
import {
  createApiKey,
  createPortcullisClient,
  getCurrentUser,
  type LoginError,
  login,
  type UpsertLoginData,
  upsertLogin,
} from '../src/index.js';

// The SDK against a real listening server (SQLite, or PostgreSQL + Redis when the URLs are set),
// through its generated functions only: no hand-written request in this file.

let t: TestApp;
let owner: { id: string; userName: string; password: string };
/** Every request the SDK sent, as the server would see its credential headers. */
const sent: { url: string; authorization: string | null; apiKey: string | null }[] = [];
const recordingFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  sent.push({ url: request.url, authorization: request.headers.get('authorization'), apiKey: request.headers.get('x-api-key') });
  return fetch(request);
};
const lastSent = () => sent[sent.length - 1]!;

beforeAll(async () => {
  t = await buildTestApp();
  const organizationId = await t.createOrg();
  owner = await t.createUser({ userName: unique('sdk-owner'), roles: ['owner'], organizationId });
});
afterAll(async () => {
  await t?.close();
});

const anonymous = () => createPortcullisClient({ baseUrl: t.url, fetch: recordingFetch });

async function signIn(): Promise<string> {
  const { data, error, response } = await login({ client: anonymous(), body: { username: owner.userName, password: owner.password } });
  expect(error, JSON.stringify(error)).toBeUndefined();
  expect(response.status).toBe(200);
  expect(lastSent()).toMatchObject({ authorization: null, apiKey: null });
  expect(data?.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  return data!.token!;
}

const vaultLogin = (name: string): UpsertLoginData['body'] => ({
  name,
  authenticationUrl: 'https://app.example.test/login',
  homeUrl: 'https://app.example.test/',
  loginConfiguration: {
    username: name,
    email: `${name}@example.test`,
    password: `pw-${name}`,
    twoFactorAuthConfiguration: { method: 'None', alwaysRequired: false },
  },
});

describe('@portcullis/client against a live server', () => {
  it('signs in, reads the user, creates a key and upserts a vault login with that key', async () => {
    const token = await signIn();

    const session = createPortcullisClient({ baseUrl: t.url, token, fetch: recordingFetch });
    const me = await getCurrentUser({ client: session });
    expect(me.error, JSON.stringify(me.error)).toBeUndefined();
    expect(me.data?.user.userName).toBe(owner.userName);
    // The access token goes once, as Bearer: not as Basic, not as x-api-key.
    expect(lastSent()).toEqual({ url: `${t.url}/v1/auth/user`, authorization: `Bearer ${token}`, apiKey: null });

    const created = await createApiKey({ client: session, body: { name: unique('sdk-key'), scopes: ['logins:read', 'logins:write'] } });
    expect(created.error, JSON.stringify(created.error)).toBeUndefined();
    expect(created.response.status).toBe(201);
    const secret = created.data!.clientSecret;
    expect(secret).toEqual(expect.any(String));
    expect(secret).not.toBe(created.data!.key);

    const withKey = createPortcullisClient({ baseUrl: t.url, apiKey: secret, fetch: recordingFetch });
    const name = unique('sdk-login');
    const upserted = await upsertLogin({ client: withKey, body: vaultLogin(name) });
    expect(upserted.error, JSON.stringify(upserted.error)).toBeUndefined();
    expect(upserted.data).toMatchObject({ name, loginConfiguration: { username: name, hasPassword: true } });
    expect(upserted.data).not.toHaveProperty('loginConfiguration.password');
    // The API key secret goes as Bearer too (the server tells a key secret from a JWT by its shape).
    expect(lastSent()).toEqual({ url: `${t.url}/logins/upsert`, authorization: `Bearer ${secret}`, apiKey: null });

    // Upserting the same username again updates that login rather than adding one.
    const again = await upsertLogin({ client: withKey, body: { ...vaultLogin(name), homeUrl: 'https://app.example.test/home' } });
    expect(again.data).toMatchObject({ id: upserted.data!.id, homeUrl: 'https://app.example.test/home' });
  });

  it('answers a wrong password with the typed error body', async () => {
    const { data, error, response } = await login({
      client: anonymous(),
      body: { username: owner.userName, password: 'not the password' },
    });
    expect(data).toBeUndefined();
    expect(response.status).toBe(401);
    const body: LoginError | undefined = error;
    expect(body).toMatchObject({ success: false, status: 401, error: 'auth.invalid_credentials', code: 16 });
    expect(body?.message).toEqual(expect.any(String));
  });

  it('refuses a key with a scope the calling key lacks, naming the scope', async () => {
    const { secret } = await t.createApiKey(owner.id, ['apikeys:write']);
    const withKey = createPortcullisClient({ baseUrl: t.url, apiKey: secret });
    const { error, response } = await createApiKey({ client: withKey, body: { name: unique('k'), scopes: ['logins:reveal'] } });
    expect(response.status).toBe(403);
    expect(error).toMatchObject({ error: 'auth.forbidden' });
    expect(JSON.stringify(error)).toContain('logins:reveal');
  });

  it('sends no credential without one, and refuses two at once', async () => {
    const { response } = await getCurrentUser({ client: anonymous() });
    expect(response.status).toBe(401);
    expect(lastSent()).toMatchObject({ authorization: null, apiKey: null });
    expect(() => createPortcullisClient({ baseUrl: t.url, token: 'a', apiKey: 'b' })).toThrow(TypeError);
  });
});
