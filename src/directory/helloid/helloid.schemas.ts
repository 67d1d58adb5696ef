import { Type } from 'typebox';

const Attributes = Type.Record(
  Type.String({ maxLength: 128, pattern: '^(?!__proto__$|constructor$|prototype$).+$' }),
  Type.String({ maxLength: 1024 }),
  {
    maxProperties: 50,
    description: 'Custom attributes: `{ "customKey": "value" }`',
  },
);

/** A user as HelloID's API answers it. */
export const HelloIdUser = Type.Object(
  {
    userGUID: Type.String({ description: 'The user id' }),
    userName: Type.String(),
    firstName: Type.Union([Type.String(), Type.Null()]),
    lastName: Type.Union([Type.String(), Type.Null()]),
    contactEmail: Type.Union([Type.String(), Type.Null()]),
    isEnabled: Type.Boolean(),
    isLocked: Type.Boolean({ description: 'In a back-off after failed sign-ins' }),
    isDeleted: Type.Boolean(),
    mustChangePassword: Type.Boolean(),
    source: Type.Union([Type.String(), Type.Null()], { description: 'Local, AD, IDP, or API when none was given' }),
    adsid: Type.Union([Type.String(), Type.Null()]),
    immutableId: Type.Union([Type.String(), Type.Null()]),
    lastLogin: Type.Union([Type.String(), Type.Null()]),
    userAttributes: Type.Record(Type.String(), Type.String()),
    links: Type.Array(Type.Object({ title: Type.String(), location: Type.String() })),
  },
  { $id: 'HelloIdUser', title: 'HelloIdUser' },
);

export const HelloIdListQuery = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'Only enabled (true) or disabled (false) users' })),
    take: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000, default: 100, description: 'At most this many users (default 100)' })),
    skip: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0, description: 'Skip this many users' })),
    isDeleted: Type.Optional(Type.Boolean({ default: false, description: 'Deleted users (true) or the others (false, the default)' })),
  },
  { additionalProperties: true },
);

export const HelloIdUserParam = Type.Object({
  identifier: Type.String({
    minLength: 1,
    maxLength: 256,
    description: 'A user name, a user GUID, an AD SID (`S-1-…`) or an immutableId',
  }),
});

const Source = Type.Union([Type.Literal('Local'), Type.Literal('AD'), Type.Literal('IDP')]);
const Name = Type.String({ maxLength: 256 });
const AdSid = Type.String({ maxLength: 184, pattern: '^[Ss]-1-\\d+(-\\d+)+$' });
const Email = Type.String({ maxLength: 254, pattern: '^\\s*[^\\s@]+@[^\\s@]+\\.[^\\s@]+\\s*$' });

/** `POST /api/v1/users`: HelloID's create body. Unknown fields are ignored. */
export const HelloIdCreateBody = Type.Object({
  userName: Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f/]+$' }),
  firstName: Type.Optional(Name),
  lastName: Type.Optional(Name),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'Without one the user cannot sign in' })),
  isEnabled: Type.Optional(Type.Boolean({ default: false })),
  mustChangePassword: Type.Optional(Type.Boolean({ default: false })),
  source: Type.Optional(Source),
  adsid: Type.Optional(AdSid),
  contactEmail: Type.Optional(Email),
  userAttributes: Type.Optional(Attributes),
});

const Identifier = Type.Object(
  {
    UserName: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f/]+$' })),
    ImmutableId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    userName: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f\\u007f/]+$' })),
    immutableId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { description: 'New user name and immutableId' },
);

/** `PUT /api/v1/users/{…}`: HelloID's update body. Unknown fields (`options`) are ignored. */
export const HelloIdUpdateBody = Type.Object({
  firstName: Type.Optional(Name),
  lastName: Type.Optional(Name),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  isEnabled: Type.Optional(Type.Boolean()),
  isLocked: Type.Optional(Type.Boolean({ description: '`false` ends a sign-in back-off (unlocks); `true` changes nothing' })),
  resetMFA: Type.Optional(Type.Boolean({ description: "`true` removes the user's MFA factors" })),
  mustChangePassword: Type.Optional(Type.Boolean()),
  contactEmail: Type.Optional(Email),
  userAttributes: Type.Optional(Attributes),
  IdentifierObject: Type.Optional(Identifier),
  identifierObject: Type.Optional(Identifier),
});
