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
const Str = (description?: string) => Type.Optional(Type.String(description ? { description } : {}));

/** RFC 7644 §3.12 error body (`$id` ScimError: every SCIM error response points at it). */
export const ScimErrorSchema = Type.Object(
  {
    schemas: Type.Array(Type.String(), { description: '`["urn:ietf:params:scim:api:messages:2.0:Error"]`' }),
    status: Type.String({ description: 'The HTTP status, as a string (RFC 7644 §3.12)' }),
    scimType: Type.Optional(
      Type.String({ description: 'invalidFilter, invalidPath, invalidSyntax, invalidValue, mutability, noTarget, tooMany, uniqueness' }),
    ),
    detail: Type.Optional(Type.String()),
  },
  { $id: 'ScimError', title: 'ScimError' },
);

const scimErrorRef = Type.Ref('ScimError');

/** SCIM error responses of a route (for OpenAPI and serialization). */
export function scimErrors(...statuses: number[]): Record<number, typeof scimErrorRef> {
  return Object.fromEntries(statuses.map((s) => [s, scimErrorRef]));
}

const Meta = Type.Object(
  {
    resourceType: Type.String(),
    created: Type.String({ format: 'date-time' }),
    lastModified: Type.String({ format: 'date-time' }),
    location: Type.String({ format: 'uri' }),
  },
  { title: 'ScimMeta' },
);

/** `{value, display, $ref}`; `$ref` is not declared because OpenAPI tooling reads a `$ref` key as a reference. */
const MemberRef = Type.Object(
  { value: Type.String(), display: Str(), type: Str() },
  { ...open, title: 'ScimMemberRef', description: 'Also carries `$ref`, the URI of the member or group' },
);

/** RFC 7643 §2.4 multi-valued attribute (emails, phoneNumbers, ims, photos, entitlements, roles, x509Certificates). */
const MultiValued = Type.Object(
  { value: Str(), display: Str(), type: Str('e.g. work, home, mobile, other'), primary: Type.Optional(Type.Boolean()) },
  { ...open, title: 'ScimMultiValuedAttribute' },
);

const ScimName = Type.Object(
  {
    formatted: Str(),
    familyName: Str(),
    givenName: Str(),
    middleName: Str(),
    honorificPrefix: Str(),
    honorificSuffix: Str(),
  },
  { ...open, title: 'ScimName' },
);

const ScimAddress = Type.Object(
  {
    formatted: Str(),
    streetAddress: Str(),
    locality: Str(),
    region: Str(),
    postalCode: Str(),
    country: Str(),
    type: Str(),
    primary: Type.Optional(Type.Boolean()),
  },
  { ...open, title: 'ScimAddress' },
);

/** RFC 7643 §4.3 Enterprise User extension. */
export const ScimEnterpriseUser = Type.Object(
  {
    employeeNumber: Str(),
    costCenter: Str(),
    organization: Str(),
    division: Str(),
    department: Str("Mapped to the user's `department`"),
    manager: Type.Optional(
      Type.Union([
        Type.Object({ value: Str(), displayName: Str() }, { ...open, description: 'Also carries `$ref`, the URI of the manager' }),
        Type.String({ description: "The manager's id alone, as Entra ID writes it (kept as sent)" }),
      ]),
    ),
  },
  { ...open, title: 'ScimEnterpriseUser' },
);

const many = (item: typeof MultiValued | typeof ScimAddress) => Type.Optional(Type.Array(item));

/** The RFC 7643 §4.1 attributes a client writes (and reads back as written). */
const userAttributes = {
  externalId: Str(),
  name: Type.Optional(ScimName),
  displayName: Str(),
  nickName: Str(),
  profileUrl: Str(),
  title: Str(),
  userType: Str(),
  preferredLanguage: Str(),
  locale: Str(),
  timezone: Str(),
  emails: many(MultiValued),
  phoneNumbers: many(MultiValued),
  ims: many(MultiValued),
  photos: many(MultiValued),
  addresses: many(ScimAddress),
  entitlements: many(MultiValued),
  roles: many(MultiValued),
  x509Certificates: many(MultiValued),
  [SCIM.enterprise]: Type.Optional(ScimEnterpriseUser),
};

/** What the server keeps of a user resource: every attribute it writes must have its RFC 7643 type. */
export const ScimUserAttributes = Type.Object(userAttributes, open);

/** A SCIM user (RFC 7643 §4.1, with the enterprise extension). Attributes are returned as the client wrote them. */
export const ScimUserSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String(),
    userName: Type.Optional(Type.String()),
    ...userAttributes,
    active: Type.Optional(Type.Boolean()),
    groups: Type.Optional(Type.Array(MemberRef, { description: 'Read-only: the groups the user belongs to' })),
    meta: Type.Optional(Meta),
  },
  {
    ...open,
    title: 'ScimUser',
    description:
      'Attributes other than `schemas` and `id` are optional here because `attributes`/`excludedAttributes` may leave them out. `password` is never returned.',
  },
);
export type ScimUserOut = Static<typeof ScimUserSchema>;

export const ScimGroupSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String(),
    externalId: Str(),
    displayName: Str(),
    members: Type.Optional(Type.Array(MemberRef)),
    meta: Type.Optional(Meta),
  },
  { ...open, title: 'ScimGroup', description: 'A SCIM group (RFC 7643 §4.2).' },
);
export type ScimGroupOut = Static<typeof ScimGroupSchema>;

/** RFC 7644 §3.4.2 ListResponse of users or groups. */
export const listResponse = <T extends typeof ScimUserSchema | typeof ScimGroupSchema>(item: T, title: string) =>
  Type.Object(
    {
      schemas: Type.Array(Type.String(), { description: '`["urn:ietf:params:scim:api:messages:2.0:ListResponse"]`' }),
      totalResults: Type.Integer(),
      startIndex: Type.Integer(),
      itemsPerPage: Type.Integer(),
      Resources: Type.Array(item),
    },
    { title },
  );

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

const Active = Type.Union([Type.Boolean(), Type.String({ maxLength: 5 })], { description: 'A boolean, or Entra\'s "True"/"False"' });

/** POST/PUT body of a user: typed RFC 7643 attributes; other attributes are ignored (RFC 7644 §3.3). */
export const ScimUserBody = Type.Object(
  {
    schemas: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 16 })),
    userName: Type.String({ minLength: 1, maxLength: 256 }),
    active: Type.Optional(Active),
    password: Type.Optional(Type.String({ maxLength: 1024, description: 'Never provisioned: ignored and never stored' })),
    ...userAttributes,
  },
  { ...open, title: 'ScimUserRequest', description: 'A SCIM user as a client writes it.' },
);

export const ScimGroupBody = Type.Object(
  {
    schemas: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 16 })),
    displayName: Type.String({ minLength: 1, maxLength: 256 }),
    externalId: Type.Optional(Type.String({ maxLength: 256 })),
    members: Type.Optional(Type.Array(Type.Object({ value: Type.String({ maxLength: 64 }), display: Str() }, open), { maxItems: 10000 })),
  },
  { ...open, title: 'ScimGroupRequest' },
);

/** RFC 7644 §3.5.2 PatchOp. */
export const PatchBody = Type.Object(
  {
    schemas: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 16 })),
    Operations: Type.Array(
      Type.Object({
        op: Type.String({ maxLength: 16, description: 'add, replace or remove (any case)' }),
        path: Type.Optional(Type.String({ maxLength: 1024 })),
        value: Type.Optional(Type.Unknown()),
      }),
      { minItems: 1, maxItems: 1000 },
    ),
  },
  { title: 'ScimPatchOp' },
);

const Supported = Type.Object({ supported: Type.Boolean() });
const DiscoveryMeta = Type.Object({ resourceType: Type.String(), location: Type.String({ format: 'uri' }) });

/** RFC 7643 §5. */
export const ServiceProviderConfigSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    documentationUri: Type.Optional(Type.String({ format: 'uri' })),
    patch: Supported,
    bulk: Type.Object({ supported: Type.Boolean(), maxOperations: Type.Integer(), maxPayloadSize: Type.Integer() }),
    filter: Type.Object({ supported: Type.Boolean(), maxResults: Type.Integer() }),
    changePassword: Supported,
    sort: Supported,
    etag: Supported,
    authenticationSchemes: Type.Array(
      Type.Object({
        type: Type.String(),
        name: Type.String(),
        description: Type.String(),
        specUri: Type.Optional(Type.String({ format: 'uri' })),
        documentationUri: Type.Optional(Type.String({ format: 'uri' })),
        primary: Type.Optional(Type.Boolean()),
      }),
    ),
    meta: DiscoveryMeta,
  },
  { title: 'ScimServiceProviderConfig' },
);

/** RFC 7643 §6. */
export const ResourceTypeSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String(),
    name: Type.String(),
    endpoint: Type.String(),
    description: Type.Optional(Type.String()),
    schema: Type.String(),
    schemaExtensions: Type.Array(Type.Object({ schema: Type.String(), required: Type.Boolean() })),
    meta: DiscoveryMeta,
  },
  { title: 'ScimResourceType' },
);

/** RFC 7643 §7 attribute definition (sub-attributes nest one level: complex attributes are not nested in SCIM). */
const AttributeFields = {
  name: Type.String(),
  type: Type.String({ description: 'string, boolean, decimal, integer, dateTime, reference, binary or complex' }),
  multiValued: Type.Boolean(),
  description: Type.Optional(Type.String()),
  required: Type.Boolean(),
  caseExact: Type.Optional(Type.Boolean()),
  canonicalValues: Type.Optional(Type.Array(Type.String())),
  mutability: Type.String({ description: 'readOnly, readWrite, immutable or writeOnly' }),
  returned: Type.String({ description: 'always, never, default or request' }),
  uniqueness: Type.Optional(Type.String({ description: 'none, server or global' })),
  referenceTypes: Type.Optional(Type.Array(Type.String())),
};
const SubAttribute = Type.Object(AttributeFields, { title: 'ScimSubAttribute' });
const Attribute = Type.Object(
  { ...AttributeFields, subAttributes: Type.Optional(Type.Array(SubAttribute)) },
  { title: 'ScimSchemaAttribute' },
);

/** RFC 7643 §7. */
export const SchemaSchema = Type.Object(
  {
    schemas: Type.Array(Type.String()),
    id: Type.String(),
    name: Type.String(),
    description: Type.Optional(Type.String()),
    attributes: Type.Array(Attribute),
    meta: DiscoveryMeta,
  },
  { title: 'ScimSchema' },
);

const discoveryList = <T extends typeof ResourceTypeSchema | typeof SchemaSchema>(item: T, title: string) =>
  Type.Object(
    {
      schemas: Type.Array(Type.String()),
      totalResults: Type.Integer(),
      startIndex: Type.Integer(),
      itemsPerPage: Type.Integer(),
      Resources: Type.Array(item),
    },
    { title },
  );
export const ResourceTypeList = discoveryList(ResourceTypeSchema, 'ScimResourceTypeListResponse');
export const SchemaList = discoveryList(SchemaSchema, 'ScimSchemaListResponse');
export const NameParam = Type.Object({ name: Type.String({ maxLength: 256 }) });
