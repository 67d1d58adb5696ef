import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuditService } from '../../audit/index.js';
import { authorize, type RequestContext } from '../../auth/index.js';
import { AppError } from '../../errors/index.js';
import { ctx, errors } from '../../http/index.js';
import type { Executor } from '../../storage/index.js';
import type { OrganizationsService } from './organizations.service.js';

export interface Branding {
  organizationId: string;
  displayName: string | null;
  logoUrl: string | null;
  primaryColor: string | null;
}

const NullableStr = (opts: Parameters<typeof Type.String>[0]) => Type.Union([Type.String(opts), Type.Null()]);
export const BrandingSchema = Type.Object(
  {
    organizationId: Type.String(),
    displayName: NullableStr({ maxLength: 128 }),
    logoUrl: NullableStr({ maxLength: 2048 }),
    primaryColor: NullableStr({ pattern: '^#[0-9a-fA-F]{6}$' }),
  },
  { $id: 'Branding', title: 'Branding' },
);
export const UpdateBrandingBody = Type.Object(
  {
    displayName: Type.Optional(NullableStr({ minLength: 1, maxLength: 128, pattern: '\\S' })),
    logoUrl: Type.Optional(NullableStr({ maxLength: 2048, pattern: '^https://[^\\s]+$', description: 'An https URL' })),
    primaryColor: Type.Optional(NullableStr({ pattern: '^#[0-9a-fA-F]{6}$', description: '`#rrggbb`' })),
  },
  { additionalProperties: false },
);

/**
 * Per-organization branding of the hosted pages: read by anyone (the sign-in page shows it
 * before anyone signs in), changed under `organization.update` (owners and admins, or a key
 * with `organizations:write`).
 */
export function createBrandingService(deps: { db: Executor; organizations: OrganizationsService; audit: AuditService }) {
  const { db, organizations, audit } = deps;
  const empty = (organizationId: string): Branding => ({ organizationId, displayName: null, logoUrl: null, primaryColor: null });

  async function read(organizationId: string): Promise<Branding | undefined> {
    const row = await db.selectFrom('organizationBranding').selectAll().where('organizationId', '=', organizationId).executeTakeFirst();
    return row && { organizationId, displayName: row.displayName, logoUrl: row.logoUrl, primaryColor: row.primaryColor };
  }

  return {
    /** Public: unknown ids answer the same empty branding as an organization without any (no enumeration). */
    async get(organizationId: string): Promise<Branding> {
      return (await read(organizationId)) ?? empty(organizationId);
    },
    async update(
      ctx: RequestContext,
      organizationId: string,
      body: { displayName?: string | null; logoUrl?: string | null; primaryColor?: string | null },
    ): Promise<Branding> {
      // The organization must exist for the caller (404 across organizations), then the policy decides.
      await organizations.get(ctx, organizationId);
      authorize(ctx.principal, 'organization.update', { kind: 'organization', id: organizationId });
      const next: Branding = { ...((await read(organizationId)) ?? empty(organizationId)) };
      if (body.displayName !== undefined) next.displayName = body.displayName?.trim() ?? null;
      if (body.logoUrl !== undefined) next.logoUrl = body.logoUrl;
      if (body.primaryColor !== undefined) next.primaryColor = body.primaryColor?.toLowerCase() ?? null;
      if (next.logoUrl) {
        try {
          if (new URL(next.logoUrl).protocol !== 'https:') throw new Error('not https');
        } catch {
          throw new AppError('request.invalid', { details: ['body.logoUrl'], detail: 'logoUrl must be an https URL' });
        }
      }
      const values = {
        displayName: next.displayName,
        logoUrl: next.logoUrl,
        primaryColor: next.primaryColor,
        updatedAt: ctx.now.toISOString(),
      };
      await db
        .insertInto('organizationBranding')
        .values({ organizationId, ...values })
        .onConflict((oc) => oc.column('organizationId').doUpdateSet(values))
        .execute();
      await audit.record(ctx, {
        action: 'organization.updated',
        organizationId,
        targetType: 'organization',
        targetId: organizationId,
        data: { changedFields: Object.keys(body).map((k) => `branding.${k}`) },
      });
      return next;
    },
  };
}
export type BrandingService = ReturnType<typeof createBrandingService>;

export const brandingRoutes: FastifyPluginAsyncTypebox<{ services: { branding: BrandingService } }> = async (app, { services }) => {
  const { branding } = services;
  app.addSchema(BrandingSchema);
  const IdParam = Type.Object({ id: Type.String({ maxLength: 64 }) });

  app.get(
    '/v1/branding/:id',
    {
      config: { auth: 'none' },
      schema: {
        operationId: 'getBranding',
        tags: ['admin'],
        summary: "An organization's branding of the hosted pages",
        description:
          'Public (the sign-in page shows it before anyone signs in, `/?org=<id>`): display name, logo URL, primary colour. An unknown id answers empty branding, like an organization that has none.',
        security: [],
        params: IdParam,
        response: { 200: Type.Ref('Branding'), ...errors(400) },
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'public, max-age=60');
      return branding.get(req.params.id);
    },
  );

  app.put(
    '/v1/organizations/:id/branding',
    {
      config: { scopes: ['organizations:write'] },
      schema: {
        operationId: 'updateBranding',
        tags: ['admin'],
        summary: "Change an organization's branding",
        description:
          'Owners and admins of the organization (policy `organization.update`), or a superadmin. Omitted fields keep their value; `null` clears. `logoUrl` must be https; `primaryColor` is `#rrggbb`. Audited as `organization.updated`.',
        params: IdParam,
        body: UpdateBrandingBody,
        response: { 200: Type.Ref('Branding'), ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => branding.update(ctx(req), req.params.id, req.body),
  );
};
