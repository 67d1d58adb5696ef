import { Type } from 'typebox';

/** Resource id of a provider (`idps/{id}`): lower-case letters, digits and hyphens, as Bytebase's resource ids. */
export const IDP_ID_PATTERN = '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$';
export const IdpId = Type.String({ pattern: IDP_ID_PATTERN, maxLength: 63 });

const Url = Type.String({ minLength: 1, maxLength: 2048 });
const Name = Type.String({ minLength: 1, maxLength: 128 });
const Scopes = Type.Array(Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\s]+$' }), { maxItems: 50 });
const AuthStyle = Type.Union([Type.Literal('IN_PARAMS'), Type.Literal('IN_HEADER')], {
  description: 'How the client authenticates at the token endpoint: client_secret_post (IN_PARAMS) or client_secret_basic (IN_HEADER).',
});

export const FieldMappingSchema = Type.Object(
  {
    identifier: Type.Optional(Name),
    displayName: Type.Optional(Name),
    email: Type.Optional(Name),
    phone: Type.Optional(Name),
    emailVerified: Type.Optional(Name),
  },
  { description: 'Names (dotted paths) of the provider claims or userinfo fields to read. OIDC always links by `sub`.' },
);

const OidcConfigFields = {
  issuer: Url,
  clientId: Type.String({ minLength: 1, maxLength: 512 }),
  scopes: Type.Optional(Scopes),
  fieldMapping: Type.Optional(FieldMappingSchema),
  authStyle: Type.Optional(AuthStyle),
};
const OAuth2ConfigFields = {
  authUrl: Url,
  tokenUrl: Url,
  userInfoUrl: Url,
  clientId: Type.String({ minLength: 1, maxLength: 512 }),
  scopes: Type.Optional(Scopes),
  fieldMapping: FieldMappingSchema,
  authStyle: Type.Optional(AuthStyle),
};
const Secret = Type.String({ minLength: 1, maxLength: 4096, description: 'Write-only: stored encrypted, never returned.' });

export const IdpConfigInput = Type.Object({
  oidcConfig: Type.Optional(Type.Object({ ...OidcConfigFields, clientSecret: Secret })),
  oauth2Config: Type.Optional(Type.Object({ ...OAuth2ConfigFields, clientSecret: Secret })),
});

const IdpType = Type.Union([Type.Literal('OIDC'), Type.Literal('OAUTH2')]);

export const CreateIdpBody = Type.Object(
  {
    identityProviderId: Type.Optional(IdpId),
    title: Type.String({ minLength: 1, maxLength: 200 }),
    domain: Type.Optional(Type.String({ maxLength: 253 })),
    type: IdpType,
    config: IdpConfigInput,
    allowJitProvisioning: Type.Optional(Type.Boolean()),
  },
  { title: 'CreateIdentityProviderRequest' },
);

export const CreateIdpQuery = Type.Object({ identityProviderId: Type.Optional(IdpId) });

/** PATCH: every field optional; config fields merge into the stored config (a missing clientSecret keeps the old one). */
export const UpdateIdpBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    domain: Type.Optional(Type.Union([Type.String({ maxLength: 253 }), Type.Null()])),
    config: Type.Optional(
      Type.Object({
        oidcConfig: Type.Optional(Type.Partial(Type.Object({ ...OidcConfigFields, clientSecret: Secret }))),
        oauth2Config: Type.Optional(Type.Partial(Type.Object({ ...OAuth2ConfigFields, clientSecret: Secret }))),
      }),
    ),
    allowJitProvisioning: Type.Optional(Type.Boolean()),
  },
  { title: 'UpdateIdentityProviderRequest' },
);

export const IdpParams = Type.Object({ id: IdpId });

export const IdpSchema = Type.Object(
  {
    name: Type.String({ description: '`idps/{id}`' }),
    id: Type.String(),
    title: Type.String(),
    domain: Type.String(),
    type: IdpType,
    config: Type.Object({
      oidcConfig: Type.Optional(Type.Object({ ...OidcConfigFields, clientSecretSet: Type.Boolean() })),
      oauth2Config: Type.Optional(Type.Object({ ...OAuth2ConfigFields, clientSecretSet: Type.Boolean() })),
    }),
    allowJitProvisioning: Type.Boolean(),
    redirectUri: Type.String({ description: 'Register this redirect URI at the provider.' }),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { title: 'IdentityProvider' },
);

export const PublicIdpSchema = Type.Object(
  {
    name: Type.String(),
    id: Type.String(),
    title: Type.String(),
    type: IdpType,
    domain: Type.String(),
  },
  { title: 'PublicIdentityProvider' },
);

export const ListIdpsQuery = Type.Object({
  domain: Type.Optional(Type.String({ maxLength: 253 })),
  organizationId: Type.Optional(Type.String({ maxLength: 64 })),
});

/** Public fields always; the full (secret-free) config only for callers holding `idps:write`. */
export const ListIdpsResponse = Type.Object(
  {
    identityProviders: Type.Array(
      Type.Object({
        ...PublicIdpSchema.properties,
        config: Type.Optional(IdpSchema.properties.config),
        allowJitProvisioning: Type.Optional(Type.Boolean()),
        redirectUri: Type.Optional(Type.String()),
        createdAt: Type.Optional(Type.String()),
        updatedAt: Type.Optional(Type.String()),
      }),
    ),
  },
  { title: 'IdentityProviderList' },
);

export const AuthorizeQuery = Type.Object({ returnTo: Type.Optional(Type.String({ maxLength: 2048 })) });

export const CallbackQuery = Type.Object({
  code: Type.Optional(Type.String({ maxLength: 4096 })),
  state: Type.Optional(Type.String({ maxLength: 512 })),
  iss: Type.Optional(Type.String({ maxLength: 2048 })),
  error: Type.Optional(Type.String({ maxLength: 256 })),
});

export const ExchangeTokenBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 16_384 }),
    email: Type.String({ minLength: 1, maxLength: 320 }),
  },
  { title: 'ExchangeTokenRequest' },
);

export const ExchangeTokenResponse = Type.Object(
  {
    accessToken: Type.String(),
    expiresIn: Type.Integer({ description: 'seconds' }),
  },
  { title: 'ExchangeTokenResponse' },
);
