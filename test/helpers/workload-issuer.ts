import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

export interface TestIssuer {
  url: string;
  /** Signs a token as the issuer would (RS256, its published `kid`); `forge` signs with an unpublished key under the same `kid`. */
  sign(claims: JWTPayload, options?: { forge?: boolean; expiresInSeconds?: number }): Promise<string>;
  close(): Promise<void>;
}

/** A CI-style OIDC issuer on loopback: discovery and JWKS over HTTP, tokens signed with jose. */
export async function startTestIssuer(): Promise<TestIssuer> {
  const real = await generateKeyPair('RS256', { extractable: true });
  const forged = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(real.publicKey)), kid: 'ci-key', alg: 'RS256', use: 'sig' };
  let url = '';
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/.well-known/openid-configuration') {
      res.end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks`, id_token_signing_alg_values_supported: ['RS256'] }));
    } else if (req.url === '/jwks') {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    async sign(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'ci-key', typ: 'JWT' })
        .setIssuer((claims.iss as string | undefined) ?? url)
        .setIssuedAt(now - 5)
        .setExpirationTime(now + (options.expiresInSeconds ?? 300))
        .sign(options.forge ? forged.privateKey : real.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
