import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctx } from '../../http/index.js';
import { registerScimErrorHandling } from './scim.errors.js';
import {
  GetQuery,
  IdParam,
  ListQuery,
  listResponse,
  NameParam,
  PatchBody,
  ResourceTypeList,
  ResourceTypeSchema,
  SCIM_CONTENT_TYPE,
  SchemaList,
  SchemaSchema,
  ScimGroupBody,
  ScimGroupSchema,
  ScimUserBody,
  ScimUserSchema,
  ServiceProviderConfigSchema,
  scimErrors,
} from './scim.schemas.js';
import type { ScimService } from './scim.service.js';

/** What the SCIM routes use. */
export interface ScimRoutesDeps {
  scim: ScimService;
}

/**
 * SCIM 2.0 (RFC 7643/7644) at `/scim/v2`, shaped by what Microsoft Entra ID's provisioning
 * service sends. Bearer API key (any guard form works) with scope `users:write`.
 */
export const scimRoutes: FastifyPluginAsyncTypebox<{ services: ScimRoutesDeps }> = async (app, { services }) => {
  const { scim } = services;
  registerScimErrorHandling(app);
  // Every SCIM response with a body is application/scim+json.
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode !== 204 && payload !== undefined && payload !== null && payload !== '')
      reply.header('content-type', SCIM_CONTENT_TYPE);
    return payload;
  });

  const tags = ['scim'];
  const write = { scopes: ['users:write' as const] };
  const discovery = { auth: 'optional' as const };

  app.get(
    '/ServiceProviderConfig',
    {
      config: discovery,
      schema: {
        operationId: 'getScimServiceProviderConfig',
        tags,
        summary: 'SCIM service provider configuration',
        description: 'RFC 7643 §5: what this SCIM service supports (PATCH and filters; no bulk, sort, ETags or password change). Public.',
        response: { 200: ServiceProviderConfigSchema },
      },
    },
    async () => scim.serviceProviderConfig(),
  );
  app.get(
    '/ResourceTypes',
    {
      config: discovery,
      schema: {
        operationId: 'listScimResourceTypes',
        tags,
        summary: 'SCIM resource types',
        description: 'RFC 7643 §6: User (with the enterprise extension) and Group. Public.',
        response: { 200: ResourceTypeList },
      },
    },
    async () => scim.resourceTypes(),
  );
  app.get(
    '/ResourceTypes/:name',
    {
      config: discovery,
      schema: {
        operationId: 'getScimResourceType',
        tags,
        summary: 'One SCIM resource type',
        description: '`User` or `Group`. Public.',
        params: NameParam,
        response: { 200: ResourceTypeSchema, ...scimErrors(404) },
      },
    },
    async (req) => scim.resourceType(req.params.name),
  );
  app.get(
    '/Schemas',
    {
      config: discovery,
      schema: {
        operationId: 'listScimSchemas',
        tags,
        summary: 'SCIM schemas',
        description: 'RFC 7643 §7: the User, EnterpriseUser and Group schemas with their attribute definitions. Public.',
        response: { 200: SchemaList },
      },
    },
    async () => scim.schemas(),
  );
  app.get(
    '/Schemas/:name',
    {
      config: discovery,
      schema: {
        operationId: 'getScimSchema',
        tags,
        summary: 'One SCIM schema',
        description: 'By its URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`. Public.',
        params: NameParam,
        response: { 200: SchemaSchema, ...scimErrors(404) },
      },
    },
    async (req) => scim.schema(req.params.name),
  );

  // ---- Users ----
  app.get(
    '/Users',
    {
      config: write,
      schema: {
        tags,
        operationId: 'listScimUsers',
        summary: 'List or filter users',
        description:
          'RFC 7644 §3.4.2: `filter` (eq, ne, co, sw, ew, pr, gt, ge, lt, le, and, or, not), `startIndex`, `count`, `attributes`, `excludedAttributes`. An unknown value is `200` with `totalResults: 0`.',
        querystring: ListQuery,
        response: { 200: listResponse(ScimUserSchema, 'ScimUserListResponse'), ...scimErrors(400, 401, 403) },
      },
    },
    async (req) => scim.listUsers(ctx(req), req.query),
  );
  app.post(
    '/Users',
    {
      config: write,
      schema: {
        operationId: 'createScimUser',
        tags,
        summary: 'Create a user',
        description:
          "Creates a Portcullis user of the caller's organization from the resource (see docs/directory.md for the mapped attributes); `active: false` creates it suspended; `password` is ignored. Answers `Location`.",
        body: ScimUserBody,
        response: { 201: ScimUserSchema, ...scimErrors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const user = await scim.createUser(ctx(req), req.body);
      return reply
        .code(201)
        .header('location', user.meta?.location ?? '')
        .send(user);
    },
  );
  app.get(
    '/Users/:id',
    {
      config: write,
      schema: {
        operationId: 'getScimUser',
        tags,
        summary: 'Read a user',
        description: '`attributes`/`excludedAttributes` narrow the answer. A user of another organization is a 404.',
        params: IdParam,
        querystring: GetQuery,
        response: { 200: ScimUserSchema, ...scimErrors(401, 403, 404) },
      },
    },
    async (req) => scim.getUser(ctx(req), req.params.id, req.query),
  );
  app.put(
    '/Users/:id',
    {
      config: write,
      schema: {
        tags,
        operationId: 'replaceScimUser',
        summary: 'Replace a user',
        description: 'The body replaces the stored resource; mapped attributes are written to the user. `active: false` suspends it.',
        params: IdParam,
        body: ScimUserBody,
        response: { 200: ScimUserSchema, ...scimErrors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => scim.replaceUser(ctx(req), req.params.id, req.body),
  );
  app.patch(
    '/Users/:id',
    {
      config: write,
      schema: {
        tags,
        operationId: 'patchScimUser',
        summary: 'Patch a user',
        description:
          'RFC 7644 §3.5.2 PatchOp, including Entra\'s `"False"` and no-path forms. `active: false` suspends the user and revokes its sessions.',
        params: IdParam,
        body: PatchBody,
        response: { 200: ScimUserSchema, ...scimErrors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => scim.patchUser(ctx(req), req.params.id, req.body.Operations),
  );
  app.delete(
    '/Users/:id',
    {
      config: write,
      schema: {
        operationId: 'deleteScimUser',
        tags,
        summary: 'Delete a user',
        description: 'Deletes the user (soft, as everywhere in Portcullis), revokes its sessions and removes it from its groups.',
        params: IdParam,
        response: { 204: Type.Null({ description: 'Deleted' }), ...scimErrors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      await scim.deleteUser(ctx(req), req.params.id);
      return reply.code(204).send(null);
    },
  );

  // ---- Groups ----
  app.get(
    '/Groups',
    {
      config: write,
      schema: {
        tags,
        operationId: 'listScimGroups',
        summary: 'List or filter groups',
        description: 'Filters as for users; `?excludedAttributes=members` leaves the members out (and unread).',
        querystring: ListQuery,
        response: { 200: listResponse(ScimGroupSchema, 'ScimGroupListResponse'), ...scimErrors(400, 401, 403) },
      },
    },
    async (req) => scim.listGroups(ctx(req), req.query),
  );
  app.post(
    '/Groups',
    {
      config: write,
      schema: {
        tags,
        operationId: 'createScimGroup',
        summary: 'Create a group',
        description: "A group of the caller's organization; `members` name users of it. Answers `Location`.",
        body: ScimGroupBody,
        response: { 201: ScimGroupSchema, ...scimErrors(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const group = await scim.createGroup(ctx(req), req.body);
      return reply
        .code(201)
        .header('location', group.meta?.location ?? '')
        .send(group);
    },
  );
  app.get(
    '/Groups/:id',
    {
      config: write,
      schema: {
        operationId: 'getScimGroup',
        tags,
        summary: 'Read a group',
        description: '`attributes`/`excludedAttributes` narrow the answer. A group of another organization is a 404.',
        params: IdParam,
        querystring: GetQuery,
        response: { 200: ScimGroupSchema, ...scimErrors(401, 403, 404) },
      },
    },
    async (req) => scim.getGroup(ctx(req), req.params.id, req.query),
  );
  app.put(
    '/Groups/:id',
    {
      config: write,
      schema: {
        tags,
        operationId: 'replaceScimGroup',
        summary: 'Replace a group',
        description: 'The body replaces the display name, external id and members.',
        params: IdParam,
        body: ScimGroupBody,
        response: { 200: ScimGroupSchema, ...scimErrors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => scim.replaceGroup(ctx(req), req.params.id, req.body),
  );
  app.patch(
    '/Groups/:id',
    {
      config: write,
      schema: {
        tags,
        operationId: 'patchScimGroup',
        summary: 'Patch a group',
        description: 'RFC 7644 §3.5.2 PatchOp: rename, add and remove members. Answers 204 without a body.',
        params: IdParam,
        body: PatchBody,
        response: { 204: Type.Null({ description: 'Patched' }), ...scimErrors(400, 401, 403, 404, 409) },
      },
    },
    async (req, reply) => {
      await scim.patchGroup(ctx(req), req.params.id, req.body.Operations);
      return reply.code(204).send(null);
    },
  );
  app.delete(
    '/Groups/:id',
    {
      config: write,
      schema: {
        operationId: 'deleteScimGroup',
        tags,
        summary: 'Delete a group',
        description: 'Deletes the group; its members stay.',
        params: IdParam,
        response: { 204: Type.Null({ description: 'Deleted' }), ...scimErrors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      await scim.deleteGroup(ctx(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
};
