import { Type } from 'typebox';

const Envelope = {
  success: Type.Boolean(),
  code: Type.Integer({ description: '0 on success' }),
  message: Type.String(),
};

export const MfaOkResponse = Type.Object(Envelope, { title: 'MfaOkResponse' });

export const EmailVerifyRequestResponse = Type.Object(
  {
    ...Envelope,
    sent: Type.Boolean({ description: 'false when the address is already verified' }),
  },
  { title: 'EmailVerificationRequested' },
);

export const EmailVerifyBody = Type.Object(
  {
    code: Type.String({ minLength: 1, maxLength: 512, description: 'The code from the verification mail' }),
  },
  { title: 'EmailVerifyRequest' },
);

export const EmailVerifyResponse = Type.Object({ ...Envelope, emailVerified: Type.Boolean() }, { title: 'EmailVerifyResponse' });

export const PasswordResetRequestBody = Type.Object(
  {
    email: Type.Optional(Type.String({ maxLength: 320 })),
    username: Type.Optional(Type.String({ maxLength: 320 })),
  },
  { title: 'PasswordResetRequest' },
);

export const PasswordResetBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 512, description: 'The token from the reset mail' }),
    newPassword: Type.String({ minLength: 1, maxLength: 4096 }),
  },
  { title: 'PasswordResetConfirmRequest' },
);
