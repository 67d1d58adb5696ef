import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctx, errors, registerStrictJsonParser } from '../http/index.js';
import { AddUserCredentialsBody, AddUserCredentialsResult, AdSidParam, UserNameOrGuidParam } from './directory.schemas.js';
import type { DirectoryService } from './directory.service.js';
import { HelloIdCreateBody, HelloIdListQuery, HelloIdUpdateBody, HelloIdUser, HelloIdUserParam } from './helloid/helloid.schemas.js';
import type { HelloIdService } from './helloid/helloid.service.js';
import type { ScimRoutesDeps } from './scim/scim.routes.js';
import { scimRoutes } from './scim/scim.routes.js';

/** What the directory routes use (seed 003 and SCIM). */
export interface DirectoryRoutesDeps extends ScimRoutesDeps {
  directory: DirectoryService;
  helloId: HelloIdService;
}

const SEED_DESCRIPTION =
  "HelloID (seed 003). HTTP Basic with an API key's `key:clientSecret` (any other credential form works too); scope `credentials:write`. " +
  '`Content-Type: application/json` is required: a missing or other type is a 400, not a 415. ' +
  "The body's `userName` must name the same user as the path (400 otherwise). A password the policy refuses is a 400 listing each reason in `details`. " +
  'A user outside the caller\'s organization is a 404 with `message: "User not found"`. ' +
  "Setting the password revokes the user's sessions (PORTCULLIS_REVOKE_SESSIONS_ON_PASSWORD_SET), is audited as `user.password_set` with the acting key, " +
  'and mails the user when SMTP is configured.';

/** Seed 003's credential routes, in their own scope so that only they parse bodies strictly. */
const helloIdRoutes: FastifyPluginAsyncTypebox<{ services: DirectoryRoutesDeps }> = async (app, { services }) => {
  registerStrictJsonParser(app);
  const { directory } = services;
  const response = { 200: AddUserCredentialsResult, ...errors(400, 401, 403, 404) };
  const config = { scopes: ['credentials:write' as const] };
  // HelloID sends Basic `key:clientSecret`; the guard takes the other forms too.
  const security: Record<string, string[]>[] = [{ basic: [] }, { bearer: [] }, { apiKey: [] }];

  app.post(
    '/api/v1/users/addUserCredentials/:userNameOrGUID',
    {
      config,
      schema: {
        operationId: 'addUserCredentials',
        tags: ['directory'],
        summary: "Set a user's password by user name or GUID (HelloID)",
        description: SEED_DESCRIPTION,
        security,
        params: UserNameOrGuidParam,
        body: AddUserCredentialsBody,
        response,
      },
    },
    async (req) => directory.setCredentials(ctx(req), { by: 'userNameOrGuid', value: req.params.userNameOrGUID }, req.body),
  );

  app.post(
    '/api/v1/users/addUserCredentialsByUserSid/:adSid',
    {
      config,
      schema: {
        operationId: 'addUserCredentialsByUserSid',
        tags: ['directory'],
        summary: "Set a user's password by Windows SID (HelloID)",
        description: SEED_DESCRIPTION,
        security,
        params: AdSidParam,
        body: AddUserCredentialsBody,
        response,
      },
    },
    async (req) => directory.setCredentials(ctx(req), { by: 'adSid', value: req.params.adSid }, req.body),
  );

  // The same path as HelloID's user API below (GET/PUT/DELETE /api/v1/users/{identifier}): one parameter name, so that
  // the router and OpenAPI see one path.
  app.post(
    '/api/v1/users/:identifier',
    {
      config,
      schema: {
        operationId: 'addUserCredentialsAlias',
        tags: ['directory'],
        summary: 'Alias of addUserCredentials (the path of HelloID’s own curl example)',
        description: `${SEED_DESCRIPTION} The path names the user by user name or user id (GUID).`,
        security,
        params: Type.Object({ identifier: UserNameOrGuidParam.properties.userNameOrGUID }),
        body: AddUserCredentialsBody,
        response,
      },
    },
    async (req) => directory.setCredentials(ctx(req), { by: 'userNameOrGuid', value: req.params.identifier }, req.body),
  );

  const { helloId } = services;
  const USERS_DESCRIPTION =
    "HelloID's user API (Tools4ever). HTTP Basic with an API key's `key:clientSecret` (any other credential form works too). " +
    "A user is named by user name, user GUID, AD SID (`S-1-…`) or immutableId. A user outside the caller's organization, or none, " +
    'is a 404 with `message: "User not found"`. `Content-Type: application/json` is required on bodies (400 otherwise).';

  app.get(
    '/api/v1/users',
    {
      config: { scopes: ['users:read'] },
      schema: {
        operationId: 'helloIdListUsers',
        tags: ['directory'],
        security,
        summary: 'List users (HelloID)',
        description: `${USERS_DESCRIPTION} Paged with \`take\` (default 100) and \`skip\`; \`isDeleted\` defaults to false; \`enabled\` filters. Scope \`users:read\`.`,
        querystring: HelloIdListQuery,
        response: { 200: Type.Array(HelloIdUser), ...errors(400, 401, 403) },
      },
    },
    async (req) => helloId.list(ctx(req), req.query),
  );

  app.get(
    '/api/v1/users/:identifier',
    {
      config: { scopes: ['users:read'] },
      schema: {
        operationId: 'helloIdGetUser',
        tags: ['directory'],
        security,
        summary: 'Get a user (HelloID)',
        description: `${USERS_DESCRIPTION} Scope \`users:read\`.`,
        params: HelloIdUserParam,
        response: { 200: HelloIdUser, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => helloId.get(ctx(req), req.params.identifier),
  );

  app.post(
    '/api/v1/users',
    {
      config: { scopes: ['users:write'] },
      schema: {
        operationId: 'helloIdCreateUser',
        tags: ['directory'],
        security,
        summary: 'Create a user (HelloID)',
        description: `${USERS_DESCRIPTION} \`userName\` is required; \`isEnabled\` and \`mustChangePassword\` default to false; \`source\` is Local, AD or IDP (API when absent). A duplicate or a password the policy refuses is a 400. Answers 200 with the user. Scope \`users:write\`.`,
        body: HelloIdCreateBody,
        response: { 200: HelloIdUser, ...errors(400, 401, 403) },
      },
    },
    async (req) => helloId.create(ctx(req), req.body),
  );

  app.put(
    '/api/v1/users/:identifier',
    {
      config: { scopes: ['users:write'] },
      schema: {
        operationId: 'helloIdUpdateUser',
        tags: ['directory'],
        security,
        summary: 'Update a user (HelloID)',
        description: `${USERS_DESCRIPTION} Only the fields given change. \`isEnabled\` enables or disables; \`isLocked: false\` ends a sign-in back-off; \`resetMFA: true\` removes the MFA factors; \`password\` sets the password (scope \`credentials:write\` too); \`IdentifierObject\` renames (\`UserName\`) and sets the immutableId (\`ImmutableId\`). The policy decides each change (the key's owner must outrank the user). Scope \`users:write\`.`,
        params: HelloIdUserParam,
        body: HelloIdUpdateBody,
        response: { 200: HelloIdUser, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => helloId.update(ctx(req), req.params.identifier, req.body),
  );

  app.delete(
    '/api/v1/users/:identifier',
    {
      config: { scopes: ['users:write'] },
      schema: {
        operationId: 'helloIdDeleteUser',
        tags: ['directory'],
        security,
        summary: 'Delete a user (HelloID)',
        description: `${USERS_DESCRIPTION} A soft delete: the user is listed with \`isDeleted=true\`, cannot sign in, and loses sessions and API keys. 200 without a body. Scope \`users:write\`.`,
        params: HelloIdUserParam,
        response: { 200: Type.Null({ description: 'No body' }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      await helloId.remove(ctx(req), req.params.identifier);
      // HelloID documents no body: an empty 200 (Fastify does not serialize an absent payload).
      (reply.code(200) as { send(payload?: unknown): unknown }).send();
      return reply;
    },
  );
};

/** Directory administration: seed 003 and SCIM 2.0 at `/scim/v2`. */
export const directoryRoutes: FastifyPluginAsyncTypebox<{ services: DirectoryRoutesDeps }> = async (app, { services }) => {
  await app.register(helloIdRoutes, { services });
  await app.register(scimRoutes, { services, prefix: '/scim/v2' });
};
