import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { byCreation, ctx, errors, keysetPage, principalOf } from '../http/index.js';
import type { ApiKeysService } from './api-keys/api-keys.service.js';
import {
  ApiKeySchema,
  CreateApiKeyBody,
  CreatedApiKeySchema,
  CreateOrganizationBody,
  CreateUserBody,
  IdParam,
  IntIdParam,
  ListUsersQuery,
  OrganizationSchema,
  UpdateOrganizationBody,
  UpdateUserBody,
  UserSchema,
} from './identity.schemas.js';
import type { OrganizationsService } from './organizations/organizations.service.js';
import { presentApiKey, presentUser } from './users/users.present.js';
import type { UsersService } from './users/users.service.js';

/** What the identity routes use. */
export interface IdentityRoutesDeps {
  organizations: OrganizationsService;
  users: UsersService;
  apiKeys: ApiKeysService;
}

export const identityRoutes: FastifyPluginAsyncTypebox<{ services: IdentityRoutesDeps }> = async (app, { services }) => {
  const { organizations, users, apiKeys } = services;

  app.post(
    '/v1/organizations',
    {
      config: { scopes: ['organizations:write'] },
      schema: {
        operationId: 'createOrganization',
        description: 'Superadmins only (`organizations:write`). The name must be unique.',
        tags: ['admin'],
        summary: 'Create an organization (superadmin)',
        body: CreateOrganizationBody,
        response: { 201: OrganizationSchema, ...errors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => reply.code(201).send(await organizations.create(ctx(req), req.body)),
  );

  app.get(
    '/v1/organizations',
    {
      schema: {
        operationId: 'listOrganizations',
        description: 'A superadmin sees every organization; anyone else sees their own.',
        tags: ['admin'],
        summary: 'List organizations',
        response: { 200: Type.Object({ organizations: Type.Array(OrganizationSchema) }), ...errors(401) },
      },
    },
    async (req) => ({ organizations: await organizations.list(ctx(req)) }),
  );

  app.get(
    '/v1/organizations/:id',
    {
      schema: {
        operationId: 'getOrganization',
        summary: 'Read an organization',
        description: 'Your own organization, or any for a superadmin; another organization is a 404.',
        tags: ['admin'],
        params: IdParam,
        response: { 200: OrganizationSchema, ...errors(401, 404) },
      },
    },
    async (req) => organizations.get(ctx(req), req.params.id),
  );

  app.patch(
    '/v1/organizations/:id',
    {
      config: { scopes: ['organizations:write'] },
      schema: {
        operationId: 'updateOrganization',
        description:
          'Owners of the organization and superadmins (`organizations:write`). Policy fields (password policy, MFA requirement, session lifetimes) change for the next sign-in.',
        tags: ['admin'],
        summary: 'Rename an organization or change its policy',
        params: IdParam,
        body: UpdateOrganizationBody,
        response: { 200: OrganizationSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => organizations.update(ctx(req), req.params.id, req.body),
  );

  app.post(
    '/v1/users',
    {
      config: { scopes: ['users:write'] },
      schema: {
        operationId: 'createUser',
        tags: ['admin'],
        summary: 'Create a user',
        description: 'A SERVICE_ACCOUNT answers its generated `serviceKey` once, in this response.',
        body: CreateUserBody,
        response: {
          201: Type.Object({ ...UserSchema.properties, serviceKey: Type.Optional(Type.String()) }),
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    async (req, reply) => {
      const { user, serviceKey } = await users.create(ctx(req), req.body);
      return reply.code(201).send({ ...presentUser(user), ...(serviceKey ? { serviceKey } : {}) });
    },
  );

  app.get(
    '/v1/users',
    {
      config: { scopes: ['users:read'] },
      schema: {
        operationId: 'listUsers',
        description:
          'Users of the caller’s organization (every organization for a superadmin, narrowed by `organizationId`), filtered and keyset-paged (`pageSize`, `pageToken` → `nextPageToken`, empty on the last page).',
        tags: ['admin'],
        summary: 'List users',
        querystring: ListUsersQuery,
        response: { 200: Type.Object({ users: Type.Array(UserSchema), nextPageToken: Type.String() }), ...errors(400, 401, 403) },
      },
    },
    async (req) => {
      const { pageSize = 50, pageToken, ...filter } = req.query;
      const { rows, nextPageToken } = await keysetPage({ pageSize, pageToken }, byCreation(), (after, limit) =>
        users.list(ctx(req), filter, limit, after),
      );
      return { users: rows.map((u) => presentUser(u)), nextPageToken };
    },
  );

  app.get(
    '/v1/users/:id',
    {
      schema: {
        operationId: 'getUser',
        summary: 'Read a user',
        description: 'A user of another organization is a 404.',
        tags: ['admin'],
        params: IdParam,
        response: { 200: UserSchema, ...errors(401, 403, 404) },
      },
    },
    async (req) => presentUser(await users.get(ctx(req), req.params.id)),
  );

  app.patch(
    '/v1/users/:id',
    {
      config: { scopes: ['users:write'] },
      schema: {
        operationId: 'updateUser',
        summary: 'Update a user',
        description: 'Profile fields, roles (never above your own rank) and state. `SUSPENDED`/`DELETED` revoke the user’s sessions.',
        tags: ['admin'],
        params: IdParam,
        body: UpdateUserBody,
        response: { 200: UserSchema, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => presentUser(await users.update(ctx(req), req.params.id, req.body)),
  );

  app.delete(
    '/v1/users/:id',
    {
      config: { scopes: ['users:write'] },
      schema: {
        operationId: 'deleteUser',
        description:
          'Soft delete: the user is marked `DELETED`, its sessions and API keys stop working. The last owner of an organization cannot be deleted (409).',
        tags: ['admin'],
        summary: 'Delete (deactivate) a user',
        params: IdParam,
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      await users.remove(ctx(req), req.params.id);
      return { success: true };
    },
  );

  app.post(
    '/v1/api-keys',
    {
      config: { scopes: ['apikeys:write'] },
      schema: {
        operationId: 'createApiKey',
        tags: ['admin'],
        summary: 'Create an API key for the caller',
        description:
          'Give `scopes` by name or Babel-style integer `permissions` (Read 1, Write 2, Delete 4, Create 8). The clientSecret is shown only here.',
        body: CreateApiKeyBody,
        response: { 201: CreatedApiKeySchema, ...errors(400, 401, 403) },
      },
    },
    async (req, reply) => {
      const { apiKey, clientSecret } = await apiKeys.create(ctx(req), req.body);
      return reply.code(201).send({ ...presentApiKey(apiKey, principalOf(req).roles), clientSecret });
    },
  );

  app.get(
    '/v1/api-keys',
    {
      schema: {
        operationId: 'listApiKeys',
        description: 'The caller’s own keys (owners and superadmins see their organization’s). Secrets are masked.',
        tags: ['admin'],
        summary: 'List API keys',
        response: { 200: Type.Object({ apiKeys: Type.Array(ApiKeySchema) }), ...errors(401) },
      },
    },
    async (req) => ({ apiKeys: (await apiKeys.list(ctx(req))).map((k) => presentApiKey(k, principalOf(req).roles)) }),
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: { scopes: ['apikeys:write'] },
      schema: {
        operationId: 'revokeApiKey',
        description: 'The key stops working at once, on every instance.',
        tags: ['admin'],
        summary: 'Revoke an API key',
        params: IntIdParam,
        response: { 200: Type.Object({ success: Type.Boolean() }), ...errors(401, 403, 404) },
      },
    },
    async (req) => {
      await apiKeys.revoke(ctx(req), req.params.id);
      return { success: true };
    },
  );
};
