import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ctx, errors } from '../http/index.js';
import { IMPORT_FORMATS } from './formats.js';
import type { PortabilityService } from './portability.service.js';

const ImportQuery = Type.Object(
  {
    format: Type.Optional(
      Type.Union(
        IMPORT_FORMATS.map((f) => Type.Literal(f)),
        { description: 'portcullis (default; what `portcullis export` writes), keycloak, auth0 or firebase' },
      ),
    ),
    dryRun: Type.Optional(Type.Boolean({ description: 'Check and count; write nothing.' })),
    allowUnsalted: Type.Optional(
      Type.Boolean({ description: 'Accept unsalted MD5/SHA-1 hashes; those users must change their password at first sign-in.' }),
    ),
    replacePasswords: Type.Optional(
      Type.Boolean({ description: 'Also replace passwords users set or signed in with since an earlier import.' }),
    ),
    organizationId: Type.Optional(Type.String({ maxLength: 64, description: "Target organization (superadmin); default the caller's." })),
  },
  { additionalProperties: true },
);

const ImportLineErrorSchema = Type.Object({
  line: Type.Integer({ description: 'Line of a JSON lines file, or 1-based element of an array / `users` list' }),
  field: Type.String(),
  reason: Type.String(),
});

export const ImportReportSchema = Type.Object(
  {
    dryRun: Type.Boolean(),
    total: Type.Integer(),
    created: Type.Integer(),
    updated: Type.Integer(),
    unchanged: Type.Integer(),
    failed: Type.Integer({ description: 'Lines refused (see errors)' }),
    errors: Type.Array(ImportLineErrorSchema),
  },
  { $id: 'ImportReport', title: 'ImportReport' },
);

/** `POST /v1/users:import`, in its own scope: it reads JSON lines and JSON as text and parses them itself. */
export const portabilityRoutes: FastifyPluginAsyncTypebox<{ portability: PortabilityService; maxBytes: number; maxUsers: number }> = async (
  app,
  { portability, maxBytes, maxUsers },
) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    /^(application\/(x-ndjson|jsonl|x-jsonlines|json|[\w.-]+\+json)|text\/(plain|json))(\s*;.*)?$/i,
    { parseAs: 'string', bodyLimit: maxBytes },
    (_req, body, done) => done(null, body),
  );

  app.post(
    '/v1/users::import',
    {
      bodyLimit: maxBytes,
      config: { scopes: ['users:import'] },
      schema: {
        operationId: 'importUsers',
        tags: ['admin'],
        summary: 'Import users with their password hashes',
        description:
          'Body: JSON lines (`application/x-ndjson`) or a JSON array (`application/json`) of users, or for `format=keycloak|firebase` the export document. ' +
          'Idempotent: a user is matched by externalId (in the organization), userName or email; a re-run updates, never duplicates, and an unchanged user is not written. ' +
          'Password hashes: bcrypt, argon2id/argon2i, scrypt (PHC, Django, Firebase), PBKDF2 (PHC, Django, Keycloak), sha512/sha256/md5-crypt, phpass, {SSHA*}; ' +
          'verified at sign-in and rehashed to argon2id. Refused lines come back in `errors` ({line, field, reason}); the others are imported. ' +
          'Scope `users:import` (by name only), administrators; at most PORTCULLIS_IMPORT_MAX_USERS users and PORTCULLIS_IMPORT_MAX_BYTES bytes (413).',
        querystring: ImportQuery,
        response: { 200: ImportReportSchema, ...errors(400, 401, 403, 404, 413, 415) },
      },
    },
    async (req) => {
      const body = typeof req.body === 'string' ? req.body : '';
      const { format, dryRun, allowUnsalted, replacePasswords, organizationId } = req.query;
      return portability.importText(ctx(req), body, {
        format,
        dryRun,
        allowUnsalted,
        replacePasswords,
        organizationId,
        maxItems: maxUsers,
      });
    },
  );
};
