import type { FastifyInstance, RouteOptions } from 'fastify';

/**
 * The OpenAPI document's rules, applied in one place when @fastify/swagger builds it:
 * - security from each route's `config.auth`: public routes (`none`, `optional`) say `security: []`,
 *   the others list the credential forms the guard accepts, one requirement per alternative, Bearer
 *   first (a route's own `schema.security` wins: HelloID's Basic, the metrics token);
 * - the error answers every route can give whatever its handler does (the guard's 401/403, the
 *   parsers' 400/413/415, load shedding's and an unreachable database's 503), in the body the route's
 *   scope really sends (SCIM's error in `application/scim+json`, DESIGN.md's ErrorBody elsewhere);
 * - every schema carrying a `title` becomes a named component (`#/components/schemas/<title>`), so
 *   generated clients read `User`, `Login`, `ErrorBody` instead of inline shapes.
 */

type Json = Record<string, unknown>;

/** How a scope parses request bodies (set by the parsers in content-types.ts, read here). */
export type BodyParsing = 'json' | 'lenient' | 'strict';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by `registerLenientJsonParser` / `registerStrictJsonParser` for the routes of their scope. */
    bodyParsing?: BodyParsing;
  }
}

/** Marks every route registered in this scope with how its bodies are parsed (for the document). */
export function markBodyParsing(app: FastifyInstance, parsing: BodyParsing): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), bodyParsing: parsing };
  });
}

export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description:
      'An access token from `POST /v1/auth/login`, or an API key secret. Browsers send the access token as the `access-token` cookie instead.',
  },
  apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'An API key secret.' },
  basic: { type: 'http', scheme: 'basic', description: "An API key's public key as user name and its secret as password." },
  metricsToken: { type: 'http', scheme: 'bearer', description: 'PORTCULLIS_METRICS_TOKEN (only for `GET /metrics`).' },
} as const;

const DEFAULT_SECURITY = [{ bearer: [] }, { apiKey: [] }, { basic: [] }];

export const TAGS = [
  { name: 'ops', description: 'Liveness, readiness and metrics for operators and orchestrators.' },
  { name: 'auth', description: 'Sign-in, tokens, the signed-in account, email verification and password reset (seeds 001, 002).' },
  { name: 'admin', description: 'Organizations, users and API keys.' },
  { name: 'audit', description: 'The audit log.' },
  { name: 'vault', description: 'The login vault: stored credentials, TOTP codes, emailed codes and browser sessions (seed 000).' },
  { name: 'directory', description: 'HelloID credential provisioning (seed 003).' },
  { name: 'scim', description: 'SCIM 2.0 provisioning (RFC 7643, RFC 7644) at `/scim/v2`, as Microsoft Entra ID drives it.' },
  { name: 'idps', description: 'Identity providers (OIDC, OAuth2) and the browser sign-in through them.' },
  {
    name: 'webhooks',
    description: 'Signed event deliveries (Standard Webhooks) to per-organization endpoints, with a delivery log and replay.',
  },
];

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ERROR_REF = { $ref: 'ErrorBody#' };

const STATUS_TEXT: Record<string, string> = {
  200: 'OK',
  201: 'Created',
  204: 'No content',
  302: 'Redirect (`Location`)',
  400: 'The request is invalid (the error names the fields)',
  401: 'No credential, or one that is not valid',
  403: 'The credential may not do this (scope, role, restricted session, cross-site request)',
  404: 'Not found',
  409: 'Conflict',
  413: 'The request body is over the size limit',
  415: 'The content type is not JSON',
  429: 'Too many attempts (`Retry-After` says when to try again)',
  500: 'A failure the service did not expect, or stored data it cannot read',
  503: 'Overloaded (load shedding) or a backing service is unreachable; retry later',
};

const methodsOf = (route: RouteOptions): string[] => (Array.isArray(route.method) ? route.method : [route.method]).map(String);

/** The error statuses a route answers whatever its handler does. */
function frameworkStatuses(route: RouteOptions, schema: Json): number[] {
  const config = (route.config ?? {}) as { auth?: string; bodyParsing?: BodyParsing };
  // 500: a failure the service did not expect (`server_error`, no details) can end any operation.
  const statuses = new Set<number>([500, 503]);
  const auth = config.auth ?? 'required';
  if (auth !== 'none') {
    statuses.add(401);
    statuses.add(403);
  }
  if (schema.params || schema.querystring || schema.body || schema.headers) statuses.add(400);
  if (methodsOf(route).some((m) => BODY_METHODS.has(m))) {
    statuses.add(400);
    statuses.add(413);
    // The lenient scope parses any content type as JSON; the strict one answers a wrong type with 400.
    if (config.bodyParsing !== 'lenient' && config.bodyParsing !== 'strict') statuses.add(415);
  }
  return [...statuses];
}

/** @fastify/swagger's per-route `transform`. */
function transform({ schema, url, route }: { schema: Json | undefined; url: string; route: RouteOptions }): { schema: Json; url: string } {
  if (!schema || schema.hide) return { schema: schema ?? {}, url };
  const config = (route.config ?? {}) as { auth?: string };
  const auth = config.auth ?? 'required';
  const out: Json = { ...schema };
  if (!out.security) out.security = auth === 'required' ? DEFAULT_SECURITY : [];
  const scim = url.startsWith('/scim/v2');
  const response: Json = { ...((schema.response as Json | undefined) ?? {}) };
  for (const status of frameworkStatuses(route, schema)) {
    if (status === 503 && scim) {
      // Load shedding answers before the SCIM scope is reached (ErrorBody); an outage inside it is a SCIM error.
      response[503] = {
        description: STATUS_TEXT[503],
        content: { 'application/scim+json': { schema: { $ref: 'ScimError#' } }, 'application/json': { schema: ERROR_REF } },
      };
    } else if (!(status in response)) {
      response[status] = scim ? { $ref: 'ScimError#' } : ERROR_REF;
    }
  }
  out.response = response;
  // The lenient scope reads a missing body as `{}`: when nothing in it is required, neither is the body.
  const body = schema.body as Json | undefined;
  if (
    (route.config as { bodyParsing?: BodyParsing } | undefined)?.bodyParsing === 'lenient' &&
    body &&
    !(body.required as unknown[] | undefined)?.length
  ) {
    out['x-body-optional'] = true;
  }
  if (scim) {
    out.produces = ['application/scim+json'];
    out.consumes = ['application/scim+json', 'application/json'];
  }
  return { schema: out, url };
}

const isSchemaNode = (node: Json): boolean =>
  typeof node.title === 'string' && ('type' in node || 'anyOf' in node || 'oneOf' in node || 'allOf' in node || 'properties' in node);

/**
 * Moves every titled schema under `components.schemas` and points at it. Two different shapes
 * under one title would make generated types lie, so they are refused at build time.
 */
function hoistTitledSchemas(doc: Json): void {
  const components = ((doc.components as Json).schemas ??= {}) as Json;
  const seen = new Map<string, string>();
  const visit = (node: unknown, inComponent: string | undefined): unknown => {
    if (Array.isArray(node)) return node.map((n) => visit(n, undefined));
    if (!node || typeof node !== 'object') return node;
    const obj = node as Json;
    const copy: Json = {};
    for (const [k, v] of Object.entries(obj)) {
      // `$id`s are Fastify's names for shared schemas; in the document the component's name is the name.
      if (k === '$id' && typeof v === 'string') continue;
      copy[k] = k === 'enum' || k === 'const' || k === 'example' ? v : visit(v, undefined);
    }
    if (!isSchemaNode(copy) || inComponent === copy.title) return copy;
    const name = String(copy.title).replace(/[^\w.-]/g, '');
    const text = JSON.stringify(copy);
    const known = seen.get(name);
    if (known !== undefined && known !== text) throw new Error(`OpenAPI: two different schemas are titled ${name}:\n${known}\n${text}`);
    seen.set(name, text);
    components[name] = copy;
    return { $ref: `#/components/schemas/${name}` };
  };
  for (const [name, schema] of Object.entries(components)) {
    components[name] = visit(schema, name);
    seen.set(name, JSON.stringify(components[name]));
  }
  doc.paths = visit(doc.paths, undefined);
}

/** The document's top: servers, license, tags, schemes; the route rules above. */
export function swaggerOptions(options: { publicUrl: string; version: string }) {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Portcullis',
        version: options.version,
        description:
          'Self-hosted identity and credential service. Every error answers one body, `ErrorBody` (SCIM answers RFC 7644 errors, `ScimError`). ' +
          'Operations with `security: []` are public; the others take an access token or an API key secret as `Authorization: Bearer`, ' +
          'an API key secret as `x-api-key`, or an API key as HTTP Basic `key:secret`.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: options.publicUrl, description: 'This server (PORTCULLIS_PUBLIC_URL)' }],
      tags: TAGS,
      components: { securitySchemes: SECURITY_SCHEMES },
      security: DEFAULT_SECURITY,
    },
    refResolver: {
      // Shared schemas (`app.addSchema`) are named by their `$id`: `ErrorBody`, `User`, `ScimError`.
      buildLocalReference: (json: Json, _base: unknown, _fragment: unknown, i: number) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    transform,
    transformObject: ({ openapiObject }: { openapiObject: Json }) => {
      for (const item of Object.values(openapiObject.paths as Record<string, Record<string, Json>>)) {
        for (const op of Object.values(item)) {
          if (!op['x-body-optional']) continue;
          delete op['x-body-optional'];
          if (op.requestBody) (op.requestBody as Json).required = false;
        }
      }
      // Responses without their own description say what the status means here.
      for (const item of Object.values(openapiObject.paths as Record<string, Record<string, Json>>)) {
        for (const op of Object.values(item)) {
          for (const [status, response] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
            if (response.description === 'Default Response' && STATUS_TEXT[status]) response.description = STATUS_TEXT[status];
          }
        }
      }
      hoistTitledSchemas(openapiObject);
      return openapiObject;
    },
  };
}
