import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ctx, errors, registerStrictJsonParser } from '../http/index.js';
import { AddUserCredentialsBody, AddUserCredentialsResult, AdSidParam, UserNameOrGuidParam } from './directory.schemas.js';
import type { DirectoryService } from './directory.service.js';
import type { ScimRoutesDeps } from './scim/scim.routes.js';
import { scimRoutes } from './scim/scim.routes.js';

/** What the directory routes use (seed 003 and SCIM). */
export interface DirectoryRoutesDeps extends ScimRoutesDeps {
  directory: DirectoryService;
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

  app.post(
    '/api/v1/users/:userNameOrGUID',
    {
      config,
      schema: {
        operationId: 'addUserCredentialsAlias',
        tags: ['directory'],
        summary: 'Alias of addUserCredentials (the path of HelloID’s own curl example)',
        description: SEED_DESCRIPTION,
        security,
        params: UserNameOrGuidParam,
        body: AddUserCredentialsBody,
        response,
      },
    },
    async (req) => directory.setCredentials(ctx(req), { by: 'userNameOrGuid', value: req.params.userNameOrGUID }, req.body),
  );
};

/** Directory administration: seed 003 and SCIM 2.0 at `/scim/v2`. */
export const directoryRoutes: FastifyPluginAsyncTypebox<{ services: DirectoryRoutesDeps }> = async (app, { services }) => {
  await app.register(helloIdRoutes, { services });
  await app.register(scimRoutes, { services, prefix: '/scim/v2' });
};
