import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctx } from '../../http/index.js';
import { registerScimErrorHandling } from './scim.errors.js';
import {
  DiscoveryList,
  DiscoverySchema,
  GetQuery,
  IdParam,
  ListQuery,
  listResponse,
  NameParam,
  PatchBody,
  SCIM_CONTENT_TYPE,
  ScimGroupBody,
  ScimGroupSchema,
  ScimUserBody,
  ScimUserSchema,
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
    { config: discovery, schema: { tags, summary: 'SCIM service provider configuration', response: { 200: DiscoverySchema } } },
    async () => scim.serviceProviderConfig(),
  );
  app.get(
    '/ResourceTypes',
    { config: discovery, schema: { tags, summary: 'SCIM resource types', response: { 200: DiscoveryList } } },
    async () => scim.resourceTypes(),
  );
  app.get(
    '/ResourceTypes/:name',
    { config: discovery, schema: { tags, params: NameParam, response: { 200: DiscoverySchema, ...scimErrors(404) } } },
    async (req) => scim.resourceType(req.params.name),
  );
  app.get('/Schemas', { config: discovery, schema: { tags, summary: 'SCIM schemas', response: { 200: DiscoveryList } } }, async () =>
    scim.schemas(),
  );
  app.get(
    '/Schemas/:name',
    { config: discovery, schema: { tags, params: NameParam, response: { 200: DiscoverySchema, ...scimErrors(404) } } },
    async (req) => scim.schema(req.params.name),
  );

  // ---- Users ----
  app.get(
    '/Users',
    {
      config: write,
      schema: {
        tags,
        summary: 'List or filter users',
        description: 'An unknown value is `200` with `totalResults: 0`.',
        querystring: ListQuery,
        response: { 200: listResponse(ScimUserSchema), ...scimErrors(400, 401, 403) },
      },
    },
    async (req) => scim.listUsers(ctx(req), req.query),
  );
  app.post(
    '/Users',
    {
      config: write,
      schema: { tags, summary: 'Create a user', body: ScimUserBody, response: { 201: ScimUserSchema, ...scimErrors(400, 401, 403, 409) } },
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
      schema: { tags, params: IdParam, querystring: GetQuery, response: { 200: ScimUserSchema, ...scimErrors(401, 403, 404) } },
    },
    async (req) => scim.getUser(ctx(req), req.params.id, req.query),
  );
  app.put(
    '/Users/:id',
    {
      config: write,
      schema: {
        tags,
        summary: 'Replace a user',
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
        summary: 'Patch a user (`active: false` suspends the user and revokes its sessions)',
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
      schema: { tags, summary: 'Delete a user', params: IdParam, response: { 204: Type.Null(), ...scimErrors(401, 403, 404) } },
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
        summary: 'List or filter groups (`?excludedAttributes=members` is honoured)',
        querystring: ListQuery,
        response: { 200: listResponse(ScimGroupSchema), ...scimErrors(400, 401, 403) },
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
        summary: 'Create a group',
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
      schema: { tags, params: IdParam, querystring: GetQuery, response: { 200: ScimGroupSchema, ...scimErrors(401, 403, 404) } },
    },
    async (req) => scim.getGroup(ctx(req), req.params.id, req.query),
  );
  app.put(
    '/Groups/:id',
    {
      config: write,
      schema: {
        tags,
        summary: 'Replace a group',
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
        summary: 'Patch a group: rename, add and remove members',
        params: IdParam,
        body: PatchBody,
        response: { 204: Type.Null(), ...scimErrors(400, 401, 403, 404, 409) },
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
      schema: { tags, summary: 'Delete a group', params: IdParam, response: { 204: Type.Null(), ...scimErrors(401, 403, 404) } },
    },
    async (req, reply) => {
      await scim.deleteGroup(ctx(req), req.params.id);
      return reply.code(204).send(null);
    },
  );
};
