import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/test-app.js';

/** @see issue 17 — the OAuth clients API: administrators only, per organization, a secret shown once and stored hashed. */

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => {
  await t?.close();
});

const WEB = { name: 'Grafana', redirectUris: ['https://grafana.example.test/login/generic_oauth'] };

describe('/v1/oauth-clients', () => {
  it('creates a client whose secret is answered once and stored only as its hash', async () => {
    const created = await t.req('POST', '/v1/oauth-clients', { apiKey: t.adminKey, json: WEB });
    expect(created.status, created.text).toBe(201);
    const { client, clientSecret } = created.body;
    expect(clientSecret).toMatch(/^[\w-]{43}$/);
    expect(client).toMatchObject({
      name: 'Grafana',
      organizationId: t.defaultOrgId,
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: 'client_secret_basic',
      firstParty: false,
      clientSecretSet: true,
    });
    expect(JSON.stringify(client)).not.toContain(clientSecret);

    const fetched = await t.req('GET', `/v1/oauth-clients/${client.clientId}`, { apiKey: t.adminKey });
    expect(fetched.status).toBe(200);
    expect(fetched.text).not.toContain(clientSecret);
    expect(fetched.body).not.toHaveProperty('clientSecret');
    const listed = await t.req('GET', '/v1/oauth-clients', { apiKey: t.adminKey });
    expect(listed.body.clients.map((c: { clientId: string }) => c.clientId)).toContain(client.clientId);
    expect(listed.text).not.toContain(clientSecret);

    // The raw row: the SHA-256 of the secret, never the secret.
    const row = await t.app.services.storage.db
      .selectFrom('oauthClients')
      .selectAll()
      .where('clientId', '=', client.clientId)
      .executeTakeFirstOrThrow();
    expect(row.secretHash).toBe(createHash('sha256').update(clientSecret).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(clientSecret);

    const audit = await t.req('GET', '/v1/audit-events?action=oauth_client.created', { apiKey: t.adminKey });
    const event = audit.body.events.find((e: { targetId: string }) => e.targetId === client.clientId);
    expect(event).toBeDefined();
    expect(JSON.stringify(event)).not.toContain(clientSecret);
  });

  it('updates, rotates the secret (answered once), and deletes', async () => {
    const { body } = await t.req('POST', '/v1/oauth-clients', { apiKey: t.adminKey, json: WEB });
    const id = body.client.clientId;
    const patched = await t.req('PATCH', `/v1/oauth-clients/${id}`, {
      apiKey: t.adminKey,
      json: { name: 'Grafana 2', firstParty: true, rotateSecret: true },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.client).toMatchObject({ name: 'Grafana 2', firstParty: true });
    expect(patched.body.clientSecret).toBeTypeOf('string');
    expect(patched.body.clientSecret).not.toBe(body.clientSecret);
    expect((await t.req('DELETE', `/v1/oauth-clients/${id}`, { apiKey: t.adminKey })).status).toBe(200);
    expect((await t.req('GET', `/v1/oauth-clients/${id}`, { apiKey: t.adminKey })).status).toBe(404);
  });

  it('a public client has no secret; settings the provider would refuse are a 400', async () => {
    const spa = await t.req('POST', '/v1/oauth-clients', {
      apiKey: t.adminKey,
      json: { name: 'SPA', redirectUris: ['http://localhost:5173/callback'], tokenEndpointAuthMethod: 'none' },
    });
    expect(spa.status, spa.text).toBe(201);
    expect(spa.body).not.toHaveProperty('clientSecret');
    expect(spa.body.client.clientSecretSet).toBe(false);
    for (const bad of [
      { name: 'no redirect', grantTypes: ['authorization_code'] },
      { name: 'key without keys', redirectUris: WEB.redirectUris, tokenEndpointAuthMethod: 'private_key_jwt' },
      { name: 'public service', grantTypes: ['client_credentials'], tokenEndpointAuthMethod: 'none' },
      { name: 'fragment', redirectUris: ['https://app.example.test/cb#x'] },
      { name: 'unknown grant', redirectUris: WEB.redirectUris, grantTypes: ['password'] },
      { name: 'extra', redirectUris: WEB.redirectUris, clientSecret: 'chosen' },
    ]) {
      const res = await t.req('POST', '/v1/oauth-clients', { apiKey: t.adminKey, json: bad });
      expect(res.status, bad.name).toBe(400);
      expect(res.body.error, bad.name).toBe('request.invalid');
    }
  });

  it('a member (lower rank) is refused with 403', async () => {
    const member = await t.createUser({ roles: ['member'] });
    const login = await t.req('POST', '/v1/auth/login', { json: { username: member.userName, password: member.password } });
    const token = login.body.token;
    expect((await t.req('POST', '/v1/oauth-clients', { token, json: WEB })).status).toBe(403);
    expect((await t.req('GET', '/v1/oauth-clients', { token })).status).toBe(403);
    const { body } = await t.req('POST', '/v1/oauth-clients', { apiKey: t.adminKey, json: WEB });
    expect((await t.req('GET', `/v1/oauth-clients/${body.client.clientId}`, { token })).status).toBe(403);
    expect((await t.req('DELETE', `/v1/oauth-clients/${body.client.clientId}`, { token })).status).toBe(403);
  });

  it('an API key without clients:read / clients:write is refused with 403', async () => {
    const admin = await t.createUser({ roles: ['admin'] });
    const readOnly = await t.createApiKey(admin.id, ['clients:read']);
    const none = await t.createApiKey(admin.id, ['users:read']);
    expect((await t.req('POST', '/v1/oauth-clients', { apiKey: readOnly.secret, json: WEB })).status).toBe(403);
    expect((await t.req('GET', '/v1/oauth-clients', { apiKey: readOnly.secret })).status).toBe(200);
    expect((await t.req('GET', '/v1/oauth-clients', { apiKey: none.secret })).status).toBe(403);
    const full = await t.createApiKey(admin.id, ['clients:read', 'clients:write']);
    expect((await t.req('POST', '/v1/oauth-clients', { apiKey: full.secret, json: WEB })).status).toBe(201);
  });

  it("another organization's client is a 404", async () => {
    const { body } = await t.req('POST', '/v1/oauth-clients', { apiKey: t.adminKey, json: WEB });
    const id = body.client.clientId;
    const org = await t.createOrg();
    const otherAdmin = await t.createUser({ roles: ['owner'], organizationId: org });
    const key = (await t.createApiKey(otherAdmin.id)).secret;
    for (const [method, json] of [
      ['GET', undefined],
      ['PATCH', { name: 'taken' }],
      ['DELETE', undefined],
    ] as const) {
      const res = await t.req(method, `/v1/oauth-clients/${id}`, { apiKey: key, ...(json ? { json } : {}) });
      expect(res.status, method).toBe(404);
      expect(res.body.error).toBe('resource.not_found');
    }
    expect((await t.req('GET', '/v1/oauth-clients', { apiKey: key })).body.clients).toEqual([]);
    expect((await t.req('GET', `/v1/oauth-clients/${id}`, { apiKey: t.adminKey })).body.name).toBe('Grafana');
  });

  it('the provider routes stay out of the OpenAPI document; the clients API is in it with operation ids', async () => {
    const doc = (await t.req('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/oauth2') || p.includes('openid-configuration'))).toEqual([]);
    expect(doc.paths['/v1/oauth-clients'].post.operationId).toBe('createOauthClient');
    expect(doc.paths['/v1/oauth-clients/{clientId}'].patch.operationId).toBe('updateOauthClient');
  });
});

describe('token endpoint limit', () => {
  it('answers 429 temporarily_unavailable with Retry-After past PORTCULLIS_OIDC_TOKEN_RATE for one client', async () => {
    const limited = await buildTestApp({ PORTCULLIS_OIDC_TOKEN_RATE: '2' });
    try {
      const created = await limited.req('POST', '/v1/oauth-clients', {
        apiKey: limited.adminKey,
        json: { name: 'service', grantTypes: ['client_credentials'] },
      });
      const { clientId } = created.body.client;
      const authorization = `Basic ${Buffer.from(`${clientId}:${created.body.clientSecret}`).toString('base64')}`;
      const ask = () =>
        limited.req('POST', '/oauth2/token', {
          body: 'grant_type=client_credentials',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization },
        });
      expect((await ask()).status).toBe(200);
      expect((await ask()).status).toBe(200);
      const refused = await ask();
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ error: 'temporarily_unavailable' });
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
