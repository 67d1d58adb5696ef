import { Type } from 'typebox';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
/** The OpenID scopes Portcullis answers; a client's `allowedScopes` are drawn from these. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'groups', 'offline_access'] as const;

const Uri = Type.String({ minLength: 1, maxLength: 2048 });
const Uris = Type.Array(Uri, { maxItems: 50, uniqueItems: true });
const GrantType = Type.Union(GRANT_TYPES.map((g) => Type.Literal(g)));
const AuthMethod = Type.Union(AUTH_METHODS.map((m) => Type.Literal(m)));
const ScopeName = Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' });
const Jwks = Type.Object(
  { keys: Type.Array(Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()), { minItems: 1, maxItems: 10 }) },
  { description: 'The public keys of a `private_key_jwt` client (JWK Set).' },
);

const Fields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  redirectUris: Uris,
  postLogoutRedirectUris: Uris,
  grantTypes: Type.Array(GrantType, { minItems: 1, maxItems: 3, uniqueItems: true }),
  tokenEndpointAuthMethod: AuthMethod,
  firstParty: Type.Boolean({ description: 'A first-party application: people are not asked for consent.' }),
  allowedScopes: Type.Array(ScopeName, { maxItems: 50, uniqueItems: true }),
  accessTokenTtl: Type.Integer({ minimum: 30, maximum: 86_400, description: 'Access token lifetime, seconds.' }),
  jwks: Jwks,
  backchannelLogoutUri: Uri,
  acr: Type.String({ minLength: 1, maxLength: 256, description: 'The `acr` value of ID tokens for this client.' }),
};

export const OauthClientSchema = Type.Object(
  {
    clientId: Type.String(),
    organizationId: Type.String(),
    name: Fields.name,
    redirectUris: Uris,
    postLogoutRedirectUris: Uris,
    grantTypes: Type.Array(Type.String()),
    tokenEndpointAuthMethod: Type.String(),
    firstParty: Type.Boolean(),
    allowedScopes: Type.Array(Type.String()),
    accessTokenTtl: Type.Integer(),
    jwks: Type.Optional(Jwks),
    backchannelLogoutUri: Type.Optional(Type.String()),
    acr: Type.Optional(Type.String()),
    /** Never the secret: whether one is set. */
    clientSecretSet: Type.Boolean(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
  },
  { title: 'OauthClient', additionalProperties: false },
);

export const CreateOauthClientBody = Type.Object(
  {
    name: Fields.name,
    redirectUris: Type.Optional(Fields.redirectUris),
    postLogoutRedirectUris: Type.Optional(Fields.postLogoutRedirectUris),
    grantTypes: Type.Optional(Fields.grantTypes),
    tokenEndpointAuthMethod: Type.Optional(Fields.tokenEndpointAuthMethod),
    firstParty: Type.Optional(Fields.firstParty),
    allowedScopes: Type.Optional(Fields.allowedScopes),
    accessTokenTtl: Type.Optional(Fields.accessTokenTtl),
    jwks: Type.Optional(Fields.jwks),
    backchannelLogoutUri: Type.Optional(Fields.backchannelLogoutUri),
    acr: Type.Optional(Fields.acr),
  },
  { additionalProperties: false },
);

export const UpdateOauthClientBody = Type.Object(
  {
    name: Type.Optional(Fields.name),
    redirectUris: Type.Optional(Fields.redirectUris),
    postLogoutRedirectUris: Type.Optional(Fields.postLogoutRedirectUris),
    grantTypes: Type.Optional(Fields.grantTypes),
    firstParty: Type.Optional(Fields.firstParty),
    allowedScopes: Type.Optional(Fields.allowedScopes),
    accessTokenTtl: Type.Optional(Fields.accessTokenTtl),
    jwks: Type.Optional(Fields.jwks),
    backchannelLogoutUri: Type.Optional(Type.Union([Fields.backchannelLogoutUri, Type.Null()])),
    acr: Type.Optional(Type.Union([Fields.acr, Type.Null()])),
    rotateSecret: Type.Optional(Type.Boolean({ description: 'Issue a new client secret (answered once, in `clientSecret`).' })),
  },
  { additionalProperties: false },
);

export const OauthClientParams = Type.Object({ clientId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\w.-]+$' }) });

export const CreatedOauthClient = Type.Object(
  {
    client: OauthClientSchema,
    clientSecret: Type.Optional(Type.String({ description: 'Shown once: only its hash is stored.' })),
  },
  { additionalProperties: false },
);

export const OauthClientList = Type.Object({ clients: Type.Array(OauthClientSchema) }, { additionalProperties: false });

export const ConsentSchema = Type.Object(
  { clientId: Type.String(), clientName: Type.String(), scope: Type.String(), createdAt: Type.String(), updatedAt: Type.String() },
  { additionalProperties: false },
);
export const ConsentList = Type.Object({ consents: Type.Array(ConsentSchema) }, { additionalProperties: false });
