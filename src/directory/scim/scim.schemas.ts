import { type Static, Type } from 'typebox';

export const SCIM = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  spc: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

/** Every SCIM response body carries this media type. */
export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

const open = { additionalProperties: true } as const;

export const ScimErrorSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    status: Type.String({ description: 'The HTTP status, as a string (RFC 7644 §3.12)' }),
    scimType: Type.Optional(Type.String()),
    detail: Type.Optional(Type.String()),
  },
  { title: 'ScimError' },
);

/** SCIM error responses of a route (for OpenAPI and serialization). */
export function scimErrors(...statuses: number[]): Record<number, typeof ScimErrorSchema> {
  return Object.fromEntries(statuses.map((s) => [s, ScimErrorSchema]));
}

const Meta = Type.Object({
  resourceType: Type.String(),
  created: Type.String(),
  lastModified: Type.String(),
  location: Type.String(),
});

/** `{value, display, $ref}`; `$ref` is not declared because OpenAPI tooling reads a `$ref` key as a reference. */
const MemberRef = Type.Object(
  { value: Type.String(), display: Type.Optional(Type.String()) },
  { ...open, description: 'Also carries `$ref`, the member URI' },
);

/** A SCIM user. Attributes are returned as the client sent them; only these are ours. */
export const ScimUserSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String(),
    externalId: Type.Optional(Type.String()),
    userName: Type.Optional(Type.String()),
    active: Type.Optional(Type.Boolean()),
    groups: Type.Optional(Type.Array(MemberRef, { description: 'Read-only: the groups the user belongs to' })),
    meta: Type.Optional(Meta),
  },
  { ...open, title: 'ScimUser', description: 'Optional here only because `attributes` may leave attributes out.' },
);
export type ScimUserOut = Static<typeof ScimUserSchema>;

export const ScimGroupSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String(),
    externalId: Type.Optional(Type.String()),
    displayName: Type.Optional(Type.String()),
    members: Type.Optional(Type.Array(MemberRef)),
    meta: Type.Optional(Meta),
  },
  { ...open, title: 'ScimGroup' },
);
export type ScimGroupOut = Static<typeof ScimGroupSchema>;

export const listResponse = <T extends typeof ScimUserSchema | typeof ScimGroupSchema>(item: T) =>
  Type.Object({
    schemas: Type.Array(Type.String()),
    totalResults: Type.Integer(),
    startIndex: Type.Integer(),
    itemsPerPage: Type.Integer(),
    Resources: Type.Array(item),
  });

export const ListQuery = Type.Object({
  filter: Type.Optional(Type.String({ maxLength: 4096, description: 'e.g. `userName eq "a@example.com"`' })),
  startIndex: Type.Optional(Type.Integer({ description: '1-based; values below 1 count as 1' })),
  count: Type.Optional(Type.Integer({ description: 'Page size; at most 1000, negative counts as 0' })),
  attributes: Type.Optional(Type.String({ maxLength: 2048 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 2048, description: 'e.g. `members`' })),
  sortBy: Type.Optional(Type.String({ maxLength: 256, description: 'Sorting is not supported (`sort.supported: false`): ignored' })),
});

export const GetQuery = Type.Object({
  attributes: Type.Optional(Type.String({ maxLength: 2048 })),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 2048 })),
});

export const IdParam = Type.Object({ id: Type.String({ maxLength: 64 }) });

const Active = Type.Union([Type.Boolean(), Type.String()], { description: 'A boolean, or Entra\'s "True"/"False"' });

export const ScimUserBody = Type.Object(
  {
    schemas: Type.Optional(Type.Array(Type.String())),
    userName: Type.String({ minLength: 1, maxLength: 256 }),
    externalId: Type.Optional(Type.String({ maxLength: 256 })),
    active: Type.Optional(Active),
  },
  { ...open, description: 'A SCIM user. `password` is never provisioned: it is ignored and never stored.' },
);

export const ScimGroupBody = Type.Object(
  {
    schemas: Type.Optional(Type.Array(Type.String())),
    displayName: Type.String({ minLength: 1, maxLength: 256 }),
    externalId: Type.Optional(Type.String({ maxLength: 256 })),
    members: Type.Optional(Type.Array(Type.Object({ value: Type.String({ maxLength: 64 }) }, open), { maxItems: 10000 })),
  },
  open,
);

export const PatchBody = Type.Object({
  schemas: Type.Optional(Type.Array(Type.String())),
  Operations: Type.Array(
    Type.Object({
      op: Type.String({ description: 'add, replace or remove (any case)' }),
      path: Type.Optional(Type.String({ maxLength: 1024 })),
      value: Type.Optional(Type.Unknown()),
    }),
    { minItems: 1, maxItems: 1000 },
  ),
});

export const DiscoverySchema = Type.Object({ schemas: Type.Array(Type.String()) }, open);
export const DiscoveryList = Type.Object({
  schemas: Type.Array(Type.String()),
  totalResults: Type.Integer(),
  startIndex: Type.Integer(),
  itemsPerPage: Type.Integer(),
  Resources: Type.Array(Type.Object({}, open)),
});
export const NameParam = Type.Object({ name: Type.String({ maxLength: 256 }) });
