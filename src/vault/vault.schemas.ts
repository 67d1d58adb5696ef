import { type Static, Type } from 'typebox';
import { Nullable, PageQuery } from '../http/index.js';

/*
 * Nullable scalars are written as `type: [T, 'null']`, not `anyOf`: with ajv's `coerceTypes`, an
 * `anyOf [string, null]` turns an explicit `null` into `""` (and `false`), and `null` means "clear" here.
 */
const NullableString = (options: Record<string, unknown> = {}) => Type.Unsafe<string | null>({ type: ['string', 'null'], ...options });
const NullableBoolean = (options: Record<string, unknown> = {}) => Type.Unsafe<boolean | null>({ type: ['boolean', 'null'], ...options });

const PRINTABLE = '^[^\\u0000-\\u001f\\u007f]+$';
const EMAIL = '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$';
/** E.164: a plus sign and up to 15 digits. */
const E164 = '^\\+[1-9]\\d{1,14}$';
export const TWO_FACTOR_METHODS = ['Email', 'SMS', 'TOTP', 'None'] as const;
export type TwoFactorMethod = (typeof TWO_FACTOR_METHODS)[number];

const HttpUrl = Type.String({
  minLength: 1,
  maxLength: 2048,
  format: 'uri',
  pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
  description: 'Absolute http(s) URL',
});

export const TwoFactorBody = Type.Object({
  method: Type.Optional(
    Type.Unsafe<TwoFactorMethod | null>({
      type: ['string', 'null'],
      enum: [...TWO_FACTOR_METHODS, null],
      description: 'Email, SMS, TOTP or None',
    }),
  ),
  alwaysRequired: Type.Optional(NullableBoolean()),
  twoFactorAuthEmail: Type.Optional(
    NullableString({ maxLength: 254, pattern: EMAIL, description: 'Where the site mails codes: captured by the inbound SMTP listener' }),
  ),
  totpSecretKey: Type.Optional(
    NullableString({ minLength: 1, maxLength: 2048, description: 'Base32 seed or an otpauth://totp URI. Write-only: never returned' }),
  ),
});

export const LoginConfigurationBody = Type.Object({
  username: Type.Optional(NullableString({ minLength: 1, maxLength: 256, pattern: PRINTABLE })),
  email: Type.Optional(NullableString({ maxLength: 254, pattern: EMAIL })),
  phone: Type.Optional(NullableString({ maxLength: 16, pattern: E164, description: 'E.164, e.g. +14155550100' })),
  twoFactorAuthConfiguration: Type.Optional(Type.Union([TwoFactorBody, Type.Null()])),
  password: Type.Optional(NullableString({ minLength: 1, maxLength: 4096, description: 'Write-only: never returned' })),
});

export const ProxyBody = Type.Object({
  username: Type.Optional(NullableString({ maxLength: 256, pattern: PRINTABLE })),
  password: Type.Optional(NullableString({ minLength: 1, maxLength: 4096, description: 'Write-only: never returned' })),
  server: Type.Optional(
    NullableString({
      maxLength: 2048,
      pattern: '^(?:[Hh][Tt][Tt][Pp][Ss]?|[Ss][Oo][Cc][Kk][Ss]5)://',
      description: 'http://, https:// or socks5:// host:port',
    }),
  ),
});

/** Seed 000's body. Omitted fields keep their value on update; an explicit `null` clears. */
export const UpsertLoginBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256, pattern: '\\S' }),
    authenticationUrl: HttpUrl,
    homeUrl: HttpUrl,
    loginConfiguration: LoginConfigurationBody,
    proxy: Type.Optional(Type.Union([ProxyBody, Type.Null()])),
    persistSession: Type.Optional(NullableBoolean()),
  },
  { title: 'UpsertLoginRequest' },
);
export type UpsertLoginInput = Static<typeof UpsertLoginBody>;

/** Seed 000's response: every non-secret field, `null` when unset, plus `has…` flags for the secrets. */
export const LoginSchema = Type.Object(
  {
    id: Type.String(),
    organizationId: Type.String(),
    name: Type.String(),
    authenticationUrl: Type.String(),
    homeUrl: Type.String(),
    loginConfiguration: Type.Object({
      username: NullableString(),
      email: NullableString(),
      phone: NullableString(),
      twoFactorAuthConfiguration: Nullable(
        Type.Object({
          method: NullableString(),
          alwaysRequired: NullableBoolean(),
          twoFactorAuthEmail: NullableString(),
          hasTotpSecret: Type.Boolean(),
        }),
      ),
      hasPassword: Type.Boolean(),
    }),
    proxy: Nullable(Type.Object({ username: NullableString(), server: NullableString(), hasPassword: Type.Boolean() })),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    persistSession: NullableBoolean(),
    hasSession: Type.Boolean(),
  },
  { title: 'Login' },
);
export type LoginView = Static<typeof LoginSchema>;

const LoginFilters = {
  name: Type.Optional(Type.String({ maxLength: 256 })),
  domain: Type.Optional(Type.String({ maxLength: 253, pattern: '^[A-Za-z0-9.-]+$', description: 'Host name; subdomains match too' })),
  username: Type.Optional(Type.String({ maxLength: 256 })),
  email: Type.Optional(Type.String({ maxLength: 254 })),
};
export const ListLoginsQuery = Type.Object({ ...LoginFilters, ...PageQuery });
/** Kaizen's `POST /logins/list {domain?}`; the other filters and paging are optional extras. */
export const ListLoginsBody = Type.Object({ ...LoginFilters, ...PageQuery }, { title: 'ListLoginsRequest' });
export const LoginPage = Type.Object({ logins: Type.Array(LoginSchema), nextPageToken: Type.String() }, { title: 'LoginPage' });

export const LoginIdParam = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const TotpResponse = Type.Object(
  {
    code: Type.String(),
    period: Type.Integer({ description: 'Seconds' }),
    expiresAt: Type.String({ description: 'When this code stops being current' }),
  },
  { title: 'TotpCode' },
);

export const RevealResponse = Type.Object({ password: NullableString(), proxyPassword: NullableString() }, { title: 'RevealedLogin' });

export const EmailCodeQuery = Type.Object({
  since: Type.Optional(Type.String({ format: 'date-time', description: 'Only codes received after this instant' })),
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 60, default: 0, description: 'Seconds to wait for a code (long poll)' })),
});
export const EmailCodeResponse = Type.Object(
  {
    code: NullableString({ description: 'The one-time code found in the message' }),
    link: NullableString({ description: 'The sign-in link found in the message' }),
    receivedAt: Type.String(),
    expiresAt: Type.String(),
  },
  { title: 'EmailCode' },
);

const SameSite = Type.Union([Type.Literal('Strict'), Type.Literal('Lax'), Type.Literal('None')]);
const CookieSchema = Type.Object(
  {
    name: Type.String({ maxLength: 4096 }),
    value: Type.String({ maxLength: 16_384 }),
    domain: Type.String({ maxLength: 1024 }),
    path: Type.String({ maxLength: 1024 }),
    expires: Type.Optional(Type.Number()),
    httpOnly: Type.Optional(Type.Boolean()),
    secure: Type.Optional(Type.Boolean()),
    sameSite: Type.Optional(SameSite),
  },
  { additionalProperties: true },
);
const OriginSchema = Type.Object(
  {
    origin: Type.String({ maxLength: 2048 }),
    localStorage: Type.Array(Type.Object({ name: Type.String({ maxLength: 4096 }), value: Type.String() }), { maxItems: 2000 }),
  },
  { additionalProperties: true },
);
/** Playwright's `storageState` (cookies and per-origin localStorage). */
export const StorageStateSchema = Type.Object(
  { cookies: Type.Array(CookieSchema, { maxItems: 3000 }), origins: Type.Array(OriginSchema, { maxItems: 500 }) },
  { additionalProperties: true, title: 'StorageState' },
);
export type StorageState = Static<typeof StorageStateSchema>;
/** Largest storageState accepted (the route's body limit). */
export const SESSION_MAX_BYTES = 512 * 1024;

export const Ok = Type.Object({ success: Type.Boolean() });
export const SessionStored = Type.Object({ success: Type.Boolean(), updatedAt: Type.String() }, { title: 'StoredSession' });
