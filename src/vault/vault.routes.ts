import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { byCreation, ctx, errors, keysetPage } from '../http/index.js';
import type { LoginView } from './vault.schemas.js';
import {
  EmailCodeQuery,
  EmailCodeResponse,
  ListLoginsBody,
  ListLoginsQuery,
  LoginIdParam,
  LoginPage,
  LoginSchema,
  Ok,
  RevealResponse,
  SESSION_MAX_BYTES,
  SessionStored,
  StorageStateSchema,
  TotpResponse,
  UpsertLoginBody,
} from './vault.schemas.js';
import type { VaultService } from './vault.service.js';

/** What the vault routes use. */
export interface VaultRoutesDeps {
  vault: VaultService;
}

const tags = ['vault'];

/** The login vault (seed 000 and its companions). Handlers only translate HTTP to one service call. */
export const vaultRoutes: FastifyPluginAsyncTypebox<{ services: VaultRoutesDeps }> = async (app, { services }) => {
  const { vault } = services;

  const page = async (
    req: Parameters<typeof ctx>[0],
    query: { pageSize?: number; pageToken?: string; name?: string; domain?: string; username?: string; email?: string },
    defaultSize: number,
  ): Promise<{ logins: LoginView[]; nextPageToken: string }> => {
    const { pageSize = defaultSize, pageToken, ...filter } = query;
    const { rows, nextPageToken } = await keysetPage({ pageSize, pageToken }, byCreation(), (after, limit) =>
      vault.list(ctx(req), filter, limit, after),
    );
    return { logins: rows, nextPageToken };
  };

  app.post(
    '/logins/upsert',
    {
      config: { scopes: ['logins:write'] },
      schema: {
        operationId: 'upsertLogin',
        tags,
        summary: 'Create or update a login',
        description:
          'Creates a new login or updates the one with the same username, email or phone in the organization. Omitted fields keep their value; `null` clears. Secrets (`password`, `totpSecretKey`, `proxy.password`) are write-only.',
        body: UpsertLoginBody,
        response: { 200: LoginSchema, ...errors(400, 401, 403, 409, 413, 415) },
      },
    },
    async (req) => vault.upsert(ctx(req), req.body),
  );

  app.get(
    '/logins',
    {
      config: { scopes: ['logins:read'] },
      schema: {
        operationId: 'listLogins',
        description:
          'Logins of the caller’s organization, filtered by `name`, `domain`, `username` or `email`; keyset-paged. Secrets are never listed.',
        tags,
        summary: 'List logins',
        querystring: ListLoginsQuery,
        response: { 200: LoginPage, ...errors(400, 401, 403) },
      },
    },
    async (req) => page(req, req.query, 50),
  );

  app.post(
    '/logins/list',
    {
      config: { scopes: ['logins:read'] },
      schema: {
        operationId: 'listLoginsByBody',
        tags,
        summary: 'List logins (Kaizen style)',
        description: '`{domain?}` → `{logins}`; up to 1000 per page unless `pageSize` says otherwise.',
        body: ListLoginsBody,
        response: { 200: LoginPage, ...errors(400, 401, 403, 415) },
      },
    },
    async (req) => page(req, req.body ?? {}, 1000),
  );

  app.get(
    '/logins/:id',
    {
      config: { scopes: ['logins:read'] },
      schema: {
        operationId: 'getLogin',
        description: 'Without secrets: `hasPassword`, `hasTotpSecret` say whether they are set.',
        tags,
        summary: 'Read a login',
        params: LoginIdParam,
        response: { 200: LoginSchema, ...errors(401, 403, 404) },
      },
    },
    async (req) => vault.get(ctx(req), req.params.id),
  );

  app.delete(
    '/logins/:id',
    {
      config: { scopes: ['logins:write'] },
      schema: {
        operationId: 'deleteLogin',
        description: 'Deletes the login with its secrets, emailed codes and stored session.',
        tags,
        summary: 'Delete a login',
        params: LoginIdParam,
        response: { 200: Ok, ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await vault.remove(ctx(req), req.params.id);
      return { success: true };
    },
  );

  app.post(
    '/logins/:id/totp',
    {
      config: { scopes: ['logins:read'] },
      schema: {
        operationId: 'generateLoginTotp',
        tags,
        summary: 'Generate the current TOTP code',
        description: 'RFC 6238 from the stored seed, honouring the algorithm, digits and period of an otpauth:// URI.',
        params: LoginIdParam,
        response: { 200: TotpResponse, ...errors(401, 403, 404, 409) },
      },
    },
    async (req) => vault.totp(ctx(req), req.params.id),
  );

  app.post(
    '/logins/:id/reveal',
    {
      config: { scopes: ['logins:reveal'] },
      schema: {
        operationId: 'revealLogin',
        tags,
        summary: 'Reveal the stored passwords',
        description: 'Needs `logins:reveal`, which is only granted by name. Audited and rate-limited per caller.',
        params: LoginIdParam,
        response: { 200: RevealResponse, ...errors(401, 403, 404, 429) },
      },
    },
    async (req) => vault.reveal(ctx(req), req.params.id),
  );

  app.get(
    '/logins/:id/email-code',
    {
      config: { scopes: ['logins:read'] },
      schema: {
        operationId: 'getLoginEmailCode',
        tags,
        summary: 'The newest emailed 2FA code (long poll)',
        description:
          'Waits up to `wait` seconds (≤ 60) for a code received after `since`; 404 `vault.email_code_not_received` when none came.',
        params: LoginIdParam,
        querystring: EmailCodeQuery,
        response: { 200: EmailCodeResponse, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => vault.emailCode(ctx(req), req.params.id, { since: req.query.since, waitSeconds: req.query.wait ?? 0 }),
  );

  app.put(
    '/logins/:id/session',
    {
      bodyLimit: SESSION_MAX_BYTES,
      config: { scopes: ['logins:write'] },
      schema: {
        operationId: 'storeLoginSession',
        tags,
        summary: 'Store the browser session (Playwright storageState)',
        description: 'Only for logins with `persistSession: true`. Stored encrypted; at most 512 KiB.',
        params: LoginIdParam,
        body: StorageStateSchema,
        response: { 200: SessionStored, ...errors(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (req) => ({ success: true, ...(await vault.storeSession(ctx(req), req.params.id, req.body)) }),
  );

  app.get(
    '/logins/:id/session',
    {
      config: { scopes: ['logins:reveal'] },
      schema: {
        operationId: 'getLoginSession',
        tags,
        summary: 'Read the stored browser session',
        description: 'A session is a live credential: this needs `logins:reveal`.',
        params: LoginIdParam,
        response: { 200: StorageStateSchema, ...errors(401, 403, 404) },
      },
    },
    async (req) => vault.readSession(ctx(req), req.params.id),
  );

  app.delete(
    '/logins/:id/session',
    {
      config: { scopes: ['logins:write'] },
      schema: {
        operationId: 'deleteLoginSession',
        description: 'Idempotent: answers 200 when no session was stored.',
        tags,
        summary: 'Drop the stored browser session',
        params: LoginIdParam,
        response: { 200: Ok, ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await vault.dropSession(ctx(req), req.params.id);
      return { success: true };
    },
  );
};
