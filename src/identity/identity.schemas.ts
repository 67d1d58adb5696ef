import { Type } from 'typebox';
import { SCOPES } from '../auth/index.js';
import { Nullable, PageQuery } from '../http/index.js';

const Str = (max: number) => Type.String({ maxLength: max });
const NStr = Nullable(Type.String());
export const UserNameSchema = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f/]+$' });
export const EmailSchema = Type.String({ maxLength: 254, pattern: '^\\s*[^\\s@]+@[^\\s@]+\\.[^\\s@]+\\s*$' });
export const AdSidSchema = Type.String({ maxLength: 184, pattern: '^S-1-\\d+(-\\d+)+$' });

export const WorkloadIdentityConfigSchema = Type.Object(
  {
    providerType: Type.Union([Type.Literal('GITHUB'), Type.Literal('GITLAB'), Type.Literal('GENERIC')]),
    issuerUrl: Type.String({ maxLength: 2048, format: 'uri' }),
    allowedAudiences: Type.Array(Str(512), { minItems: 1, maxItems: 20 }),
    subjectPattern: Type.String({ minLength: 1, maxLength: 512 }),
  },
  { title: 'WorkloadIdentityConfig' },
);

export const ApiKeySchema = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    key: Type.String(),
    clientSecret: Type.String({ description: 'Masked prefix; the secret is only shown at creation' }),
    createdDate: Type.String(),
    expireDate: NStr,
    ownerId: Type.String(),
    revoked: Type.Boolean(),
    permissions: Type.Integer({ description: 'Read 1, Write 2, Delete 4, Create 8' }),
    description: NStr,
    scopes: Type.Array(Type.String()),
    lastUsedDate: NStr,
  },
  { title: 'ApiKey' },
);

export const SettingSchema = Type.Object(
  {
    id: Type.Integer(),
    category: Type.String(),
    group: Type.String(),
    name: Type.String(),
    value: Type.String(),
    type: Type.String(),
    description: Type.String(),
    readOnly: Type.Boolean(),
    userId: Type.String(),
  },
  { title: 'Setting' },
);

/** The user resource (seed 001 ∪ seed 002 ∪ directory fields). */
export const UserSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String({ description: 'users/{id}' }),
    organizationId: Type.String(),
    userName: Type.String(),
    email: NStr,
    emailVerified: Type.Boolean(),
    phoneNumber: NStr,
    phone: NStr,
    title: NStr,
    firstName: NStr,
    lastName: NStr,
    department: NStr,
    birthDate: NStr,
    createdAt: Type.String(),
    updatedAt: Type.String(),
    lastDismissMessages: NStr,
    lastLogIn: NStr,
    rank: Nullable(Type.Number()),
    image: NStr,
    address: NStr,
    postalCode: NStr,
    region: NStr,
    city: NStr,
    country: NStr,
    countryCode: NStr,
    mobile: NStr,
    notes: NStr,
    customerId: Nullable(Type.Number()),
    roles: Type.Array(Type.String()),
    state: Type.String(),
    userType: Type.String(),
    mfaEnabled: Type.Boolean(),
    requireResetPassword: Type.Boolean(),
    groups: Type.Array(Type.String()),
    profile: Type.Object({ lastLoginTime: NStr, lastChangePasswordTime: NStr, source: NStr }),
    workloadIdentityConfig: Nullable(WorkloadIdentityConfigSchema),
    adSid: NStr,
    externalId: NStr,
    apiKeys: Type.Optional(Type.Array(ApiKeySchema)),
    settings: Type.Optional(Type.Array(SettingSchema)),
    recoveryCodesRemaining: Type.Optional(Type.Integer()),
    tempOtpSecret: Type.Optional(Type.String()),
    tempRecoveryCodes: Type.Optional(Type.Array(Type.String())),
    tempOtpSecretCreatedTime: Type.Optional(Type.String()),
    otpAuthUri: Type.Optional(Type.String()),
    qrCodeDataUrl: Type.Optional(Type.String()),
  },
  { $id: 'User', title: 'User' },
);

const UserType = Type.Union([Type.Literal('USER'), Type.Literal('SERVICE_ACCOUNT'), Type.Literal('WORKLOAD_IDENTITY')]);
const Roles = Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 });
const Groups = Type.Array(Type.String({ maxLength: 256 }), { maxItems: 200 });

/** What an administrator may set on another account, on creation and on update. */
const EditableUserFields = {
  email: Type.Optional(EmailSchema),
  phone: Type.Optional(Str(32)),
  firstName: Type.Optional(Str(256)),
  lastName: Type.Optional(Str(256)),
  title: Type.Optional(Str(256)),
  department: Type.Optional(Str(256)),
  roles: Type.Optional(Roles),
  groups: Type.Optional(Groups),
  adSid: Type.Optional(AdSidSchema),
  externalId: Type.Optional(Str(256)),
  userType: Type.Optional(UserType),
  workloadIdentityConfig: Type.Optional(WorkloadIdentityConfigSchema),
  requireResetPassword: Type.Optional(Type.Boolean()),
};

export const CreateUserBody = Type.Object(
  {
    userName: UserNameSchema,
    password: Type.Optional(Type.String({ maxLength: 4096 })),
    organizationId: Type.Optional(Type.String({ maxLength: 64 })),
    ...EditableUserFields,
  },
  { title: 'CreateUserRequest' },
);

export const UpdateUserBody = Type.Object(
  {
    userName: Type.Optional(UserNameSchema),
    state: Type.Optional(Type.Union([Type.Literal('ACTIVE'), Type.Literal('DELETED')])),
    ...EditableUserFields,
  },
  { title: 'UpdateUserRequest' },
);

export const ListUsersQuery = Type.Object({
  userName: Type.Optional(Str(128)),
  email: Type.Optional(Str(254)),
  adSid: Type.Optional(Str(184)),
  externalId: Type.Optional(Str(256)),
  organizationId: Type.Optional(Str(64)),
  ...PageQuery,
});

export const IdParam = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const IntIdParam = Type.Object({ id: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) });

const ScopeSchema = Type.Union(SCOPES.map((s) => Type.Literal(s)));
export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    description: Type.Optional(Str(1024)),
    scopes: Type.Optional(Type.Array(ScopeSchema, { maxItems: SCOPES.length })),
    permissions: Type.Optional(Type.Integer({ minimum: 0, maximum: 15 })),
    expireDate: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { title: 'CreateApiKeyRequest' },
);

export const CreatedApiKeySchema = Type.Object(
  {
    ...ApiKeySchema.properties,
    clientSecret: Type.String({ description: 'The secret, shown only in this response' }),
  },
  { title: 'CreatedApiKey' },
);

const PolicySchema = Type.Object({
  passwordMinLength: Type.Optional(Type.Integer({ minimum: 8, maximum: 128 })),
  requireMfa: Type.Optional(Type.Boolean()),
  requireResetOnFirstLogin: Type.Optional(Type.Boolean()),
  passwordRotationDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
  mustChangePasswordOnAdminSet: Type.Optional(Type.Boolean()),
});
export const OrganizationSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    policy: Type.Object({
      passwordMinLength: Type.Integer(),
      requireMfa: Type.Boolean(),
      requireResetOnFirstLogin: Type.Boolean(),
      passwordRotationDays: Type.Integer(),
      mustChangePasswordOnAdminSet: Type.Boolean(),
    }),
  },
  { title: 'Organization' },
);
export const CreateOrganizationBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '\\S' }),
    policy: Type.Optional(PolicySchema),
  },
  { title: 'CreateOrganizationRequest' },
);
export const UpdateOrganizationBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '\\S' })),
    policy: Type.Optional(PolicySchema),
  },
  { title: 'UpdateOrganizationRequest' },
);
