import { Type } from 'typebox';

/** A Windows security identifier as HelloID sends it (`S-1-5-21-…`); a lower-case `s` is accepted. */
export const AdSidParam = Type.Object({
  adSid: Type.String({ maxLength: 184, pattern: '^[Ss]-1-\\d+(-\\d+)+$', description: 'Windows SID, `S-1-…`' }),
});

export const UserNameOrGuidParam = Type.Object({
  userNameOrGUID: Type.String({
    minLength: 1,
    maxLength: 256,
    description:
      'A user name, or a user id (GUID). A value shaped like a GUID is looked up as an id first, then as a user name; anything else as a user name.',
  }),
});

/** Seed 003's body. Unknown fields are ignored. */
export const AddUserCredentialsBody = Type.Object(
  {
    userName: Type.String({ minLength: 1, maxLength: 256, description: 'Must name the same user as the path' }),
    password: Type.String({ minLength: 1, maxLength: 4096 }),
    mustChangePassword: Type.Optional(
      Type.Boolean({
        description:
          "Sets `requireResetPassword`. When absent, the organization's `mustChangePasswordOnAdminSet` policy decides (false out of the box).",
      }),
    ),
  },
  { title: 'AddUserCredentialsRequest' },
);

export const AddUserCredentialsResult = Type.Object(
  {
    success: Type.Literal(true),
    code: Type.Literal(0),
    message: Type.String(),
    userGUID: Type.String({ description: 'The user id' }),
    userName: Type.String(),
    mustChangePassword: Type.Boolean({ description: 'Whether the user must change the password at next sign-in' }),
  },
  { title: 'AddUserCredentialsResult' },
);
