import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, type TestResponse } from '../helpers/test-app.js';

/**
 * Regressions of issue 14's low and medium findings, over real HTTP, on SQLite and on
 * PostgreSQL + Redis (`npm run test:pg`). Each test failed on the main branch before its fix.
 */

const expectError = (res: TestResponse, status: number, error: string) => {
  expect(res.status, res.text).toBe(status);
  expect(res.body).toMatchObject({ success: false, status, error });
};

/** @see issue 14 finding 15 — IPv4-compatible and SIIT forms of loopback passed the SSRF guard. */
describe('identity provider URLs in IPv4-embedding IPv6 forms', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(async () => t?.close());

  it('refuses loopback written as ::7f00:1, ::127.0.0.1 or ::ffff:0:7f00:1, as an issuer and as OAuth2 endpoints', async () => {
    for (const host of ['[::7f00:1]', '[::127.0.0.1]', '[::ffff:0:7f00:1]', '[::ffff:0:127.0.0.1]', '[::a9fe:a9fe]', '[64:ff9b::a00:1]']) {
      const oidc = await t.req('POST', '/v1/idps', {
        apiKey: t.adminKey,
        json: { title: 'x', type: 'OIDC', config: { oidcConfig: { issuer: `https://${host}/`, clientId: 'c', clientSecret: 's' } } },
      });
      expectError(oidc, 400, 'request.invalid');
      expect(oidc.body.details, host).toEqual(['body.config.oidcConfig.issuer']);
      const oauth2 = await t.req('POST', '/v1/idps', {
        apiKey: t.adminKey,
        json: {
          title: 'x',
          type: 'OAUTH2',
          config: {
            oauth2Config: {
              authUrl: 'https://idp.example.com/authorize',
              tokenUrl: `https://${host}:8443/token`,
              userInfoUrl: 'https://idp.example.com/userinfo',
              clientId: 'c',
              clientSecret: 's',
              fieldMapping: { identifier: 'sub' },
            },
          },
        },
      });
      expectError(oauth2, 400, 'request.invalid');
      expect(oauth2.body.details, host).toEqual(['body.config.oauth2Config.tokenUrl']);
    }
    // A public address in an embedding form that reaches it (IPv4-mapped, NAT64) stays usable.
    const ok = await t.req('POST', '/v1/idps', {
      apiKey: t.adminKey,
      json: {
        title: 'x',
        type: 'OIDC',
        config: { oidcConfig: { issuer: 'https://[64:ff9b::808:808]/', clientId: 'c', clientSecret: 's' } },
      },
    });
    expect(ok.status, ok.text).toBe(201);
  });
});
