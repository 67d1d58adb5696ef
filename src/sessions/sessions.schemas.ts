import { Type } from 'typebox';

const S = (max: number) => Type.Optional(Type.String({ maxLength: max }));

/** seed 001 ∪ seed 002 login request. Unknown fields are ignored. */
export const LoginBody = Type.Object(
  {
    username: S(320),
    email: S(320),
    password: S(4096),
    web: Type.Optional(Type.Boolean()),
    idpName: S(256),
    idpContext: Type.Optional(
      Type.Object({
        oauth2Context: Type.Optional(Type.Object({ code: Type.String({ maxLength: 4096 }) })),
        oidcContext: Type.Optional(Type.Object({ code: Type.String({ maxLength: 4096 }) })),
      }),
    ),
    otpCode: S(32),
    recoveryCode: S(64),
    mfaTempToken: S(512),
  },
  { title: 'LoginRequest' },
);

export const LoginResponse = Type.Object(
  {
    success: Type.Boolean(),
    code: Type.Integer(),
    message: Type.String(),
    token: Type.Optional(Type.String()),
    expiresIn: Type.Optional(Type.Integer({ description: 'seconds' })),
    refreshToken: Type.Optional(Type.String()),
    mfaTempToken: Type.Optional(Type.String()),
    requireResetPassword: Type.Optional(Type.Boolean()),
    user: Type.Optional(Type.Ref('User')),
    requireMfaEnrollment: Type.Optional(
      Type.Boolean({ description: 'true when the organization requires MFA: the session can only enroll (POST /v1/auth/user)' }),
    ),
  },
  { title: 'LoginResponse' },
);

export const RefreshBody = Type.Object({ refreshToken: S(512), web: Type.Optional(Type.Boolean()) }, { title: 'RefreshRequest' });

export const OkResponse = Type.Object({ success: Type.Boolean(), code: Type.Integer(), message: Type.String() }, { title: 'OkResponse' });

export const UserEnvelope = Type.Object(
  { success: Type.Boolean(), code: Type.Integer(), message: Type.String(), user: Type.Ref('User') },
  { title: 'UserEnvelope' },
);

export const UpdateMeBody = Type.Object(
  {
    user: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    otpCode: S(32),
    recoveryCode: S(64),
    regenerateTempMfaSecret: Type.Optional(Type.Boolean()),
    regenerateRecoveryCodes: Type.Optional(Type.Boolean()),
  },
  { title: 'UpdateCurrentUserRequest' },
);

export const ChangePasswordBody = Type.Object(
  {
    currentPassword: Type.String({ minLength: 1, maxLength: 4096 }),
    newPassword: Type.String({ minLength: 1, maxLength: 4096 }),
  },
  { title: 'ChangePasswordRequest' },
);

export const JwksResponse = Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }, { title: 'Jwks' });
