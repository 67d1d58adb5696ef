import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestOAuth2Server {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Issues a code for a userinfo document (what `/userinfo` will answer for its access token). */
  issueCode(userinfo: Record<string, unknown>): string;
  close(): Promise<void>;
}

/**
 * A minimal OAuth2 authorization server (not OIDC): a token endpoint (client_secret_post or
 * basic, single-use codes bound to the redirect URI) and a userinfo endpoint with GitHub-like
 * field names.
 */
export async function startTestOAuth2Server(redirectUri: string): Promise<TestOAuth2Server> {
  const clientId = 'portcullis-oauth2';
  const clientSecret = `oauth2-secret-${randomBytes(6).toString('hex')}`;
  const codes = new Map<string, Record<string, unknown>>();
  const tokens = new Map<string, Record<string, unknown>>();
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.method === 'POST' && url.pathname === '/token') {
        const form = new URLSearchParams(raw);
        let id = form.get('client_id');
        let secret = form.get('client_secret');
        const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
        if (basic)
          [id, secret] = Buffer.from(basic[1] as string, 'base64')
            .toString()
            .split(':')
            .map(decodeURIComponent) as [string, string];
        if (id !== clientId || secret !== clientSecret) return json(res, 401, { error: 'invalid_client' });
        const code = form.get('code') ?? '';
        const info = codes.get(code);
        codes.delete(code);
        if (!info || form.get('redirect_uri') !== redirectUri || form.get('grant_type') !== 'authorization_code') {
          return json(res, 400, { error: 'invalid_grant', error_description: 'internal detail that must not leak' });
        }
        const token = randomBytes(16).toString('hex');
        tokens.set(token, info);
        return json(res, 200, { access_token: token, token_type: 'bearer', expires_in: 3600 });
      }
      if (req.method === 'GET' && url.pathname === '/userinfo') {
        const info = tokens.get((req.headers.authorization ?? '').replace(/^Bearer /i, ''));
        return info ? json(res, 200, info) : json(res, 401, { message: 'Bad credentials' });
      }
      return json(res, 404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    clientId,
    clientSecret,
    issueCode(userinfo) {
      const code = randomBytes(12).toString('hex');
      codes.set(code, userinfo);
      return code;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
