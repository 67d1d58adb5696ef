/**
 * @portcullis/client: the typed client of the Portcullis HTTP API.
 *
 * Everything under `./generated/` is produced by `npm run client:generate` (@hey-api/openapi-ts,
 * from the OpenAPI document the server serves) and must not be edited by hand; this file only adds
 * `createPortcullisClient`, which sends the caller's credential the one way the server reads it.
 */
import type { Auth } from './generated/client/index.js';
import { type Client, createClient, createConfig } from './generated/client/index.js';

export type { Auth, Client, Config, RequestResult } from './generated/client/index.js';
export * from './generated/index.js';

/** A credential, or a function answering the current one (e.g. after a token refresh). */
export type Credential = string | (() => string | undefined | Promise<string | undefined>);

export interface PortcullisClientOptions {
  /** Where the server answers, e.g. `http://localhost:8080` (no trailing path). */
  baseUrl: string;
  /** An access token from `login` (or `POST /v1/auth/refresh`). */
  token?: Credential;
  /** An API key's secret (`clientSecret`, shown once when the key is created) — not its id or prefix. */
  apiKey?: Credential;
  /** A fetch implementation (default: `globalThis.fetch`). */
  fetch?: typeof fetch;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
}

/**
 * The auth callback @hey-api calls once per security scheme an operation lists. A plain string
 * would be answered to every scheme, so a caller would send its token as `Authorization: Basic
 * base64(token)` and as `x-api-key` too; the server tries `Authorization` first and refuses the
 * request. Both an access token and an API key secret go as `Authorization: Bearer …` (the server
 * tells a JWT from a key secret by its shape), so this answers the bearer scheme only.
 */
export function bearerAuth(credential: Credential | undefined): (auth: Auth) => Promise<string | undefined> {
  return async (auth) => {
    if (credential === undefined || auth.type !== 'http' || auth.scheme !== 'bearer') return undefined;
    return typeof credential === 'function' ? await credential() : credential;
  };
}

/**
 * A client for one server and one caller. Pass it to the SDK functions as `client`:
 *
 *     const pc = createPortcullisClient({ baseUrl: 'http://localhost:8080', apiKey: process.env.PC_SECRET });
 *     const { data, error } = await getCurrentUser({ client: pc });
 *
 * Without `token` or `apiKey` it sends no credential (for `login` and public operations).
 */
export function createPortcullisClient(options: PortcullisClientOptions): Client {
  if (options.token !== undefined && options.apiKey !== undefined) {
    throw new TypeError('createPortcullisClient: give either token or apiKey, not both');
  }
  return createClient(
    createConfig({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      auth: bearerAuth(options.token ?? options.apiKey),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
    }),
  );
}
