import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import Provider from 'oidc-provider';

export interface Tamper {
  /** Changes the id_token claims before it is re-signed. */
  claims?: (claims: Record<string, unknown>) => void;
  /** Re-signs with this key instead of the provider's own (same `kid`): a forged signature. */
  forge?: boolean;
}

export interface TestOp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Accounts by subject: their claims (email, email_verified, name, …). */
  accounts: Map<string, Record<string, unknown>>;
  /** When set, id_tokens in token responses are rewritten and re-signed. */
  tamper: Tamper | undefined;
  /** Drives an authorization request through login and consent as `account`; answers the URL the OP redirected to. */
  authorize(url: string, account: string): Promise<URL>;
  /** Runs an authorization of its own (no PKCE, no nonce) and answers the code. */
  code(account: string): Promise<string>;
  close(): Promise<void>;
}

const KID = 'op-key';

/**
 * A real OpenID Provider (panva's oidc-provider) on 127.0.0.1 with one confidential client.
 * Interactions are finished over HTTP at `/interaction/{uid}/finish?account=…` (login, then consent).
 */
export async function startTestOp(redirectUri: string): Promise<TestOp> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid: KID, alg: 'RS256', use: 'sig' } as JWK;
  const forged = await generateKeyPair('RS256');
  const accounts = new Map<string, Record<string, unknown>>();
  let provider: any;
  const op: Partial<TestOp> = { accounts, tamper: undefined, redirectUri, clientId: 'portcullis', clientSecret: `op-secret-${Date.now()}` };

  async function resign(body: string): Promise<string> {
    const parsed = JSON.parse(body) as Record<string, unknown>;
    const tamper = op.tamper;
    if (!tamper || typeof parsed.id_token !== 'string') return body;
    const claims = decodeJwt(parsed.id_token) as Record<string, unknown>;
    tamper.claims?.(claims);
    const key = tamper.forge ? forged.privateKey : await importJWK(privateJwk, 'RS256');
    parsed.id_token = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: KID }).sign(key);
    return JSON.stringify(parsed);
  }

  async function finishInteraction(req: IncomingMessage, res: ServerResponse, account: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    let result: Record<string, unknown>;
    if (details.prompt.name === 'login') {
      result = { login: { accountId: account } };
    } else {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const missing = details.prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, (scopes as string[]).join(' '));
      }
      result = { consent: { grantId: await grant.save() } };
    }
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const finish = /^\/interaction\/([^/]+)\/finish$/.exec(url.pathname);
    if (finish) {
      finishInteraction(req, res, url.searchParams.get('account') ?? '').catch((err) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    if (url.pathname === '/token' && op.tamper) {
      const end = res.end.bind(res);
      let rewritten = false;
      (res as any).end = (chunk: unknown, ...rest: unknown[]) => {
        if (rewritten || chunk === undefined || chunk === null || typeof chunk === 'function') return end(chunk as any, ...(rest as []));
        rewritten = true;
        resign(String(chunk)).then(
          (body) => {
            if (!res.headersSent) res.setHeader('content-length', Buffer.byteLength(body));
            end(body);
          },
          () => end(chunk as any),
        );
        return res;
      };
    }
    provider.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: op.clientId,
        client_secret: op.clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx: unknown, sub: string) {
      const claims = accounts.get(sub);
      if (!claims) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...claims }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    jwks: { keys: [privateJwk] },
    cookies: { keys: ['test-cookie-key-0123456789'] },
    pkce: { required: () => false },
  });
  provider.on('server_error', () => {});

  async function authorize(start: string, account: string): Promise<URL> {
    const jar = new Map<string, string>();
    let next = start;
    for (let i = 0; i < 12; i++) {
      const res = await fetch(next, {
        redirect: 'manual',
        headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = (pair ?? '').indexOf('=');
        const name = (pair ?? '').slice(0, eq).trim();
        const value = (pair ?? '').slice(eq + 1).trim();
        if (value && !/expires=Thu, 01 Jan 1970/i.test(c)) jar.set(name, value);
        else jar.delete(name);
      }
      const location = res.headers.get('location');
      if (!location) throw new Error(`OP answered ${res.status} without a redirect: ${await res.text()}`);
      const target = new URL(location, next);
      if (target.toString().startsWith(redirectUri)) return target;
      const interaction = /^\/interaction\/([^/]+)$/.exec(target.pathname);
      next = interaction ? `${issuer}/interaction/${interaction[1]}/finish?account=${encodeURIComponent(account)}` : target.toString();
    }
    throw new Error('too many redirects at the OP');
  }

  return Object.assign(op, {
    issuer,
    authorize,
    async code(account: string) {
      const url = new URL(`${issuer}/auth`);
      url.search = new URLSearchParams({
        client_id: op.clientId as string,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: 'openid email profile',
        state: 'st',
      }).toString();
      const back = await authorize(url.toString(), account);
      const code = back.searchParams.get('code');
      if (!code) throw new Error(`no code: ${back}`);
      return code;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as TestOp;
}
