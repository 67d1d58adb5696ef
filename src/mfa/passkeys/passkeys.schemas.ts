import { Type } from 'typebox';

const B64 = (max: number) => Type.String({ maxLength: max, pattern: '^[A-Za-z0-9_-]*={0,2}$' });

export const PasskeySchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    deviceType: Type.String({ description: '`singleDevice`, or `multiDevice` for a synced passkey' }),
    backedUp: Type.Boolean(),
    transports: Type.Array(Type.String()),
    createdAt: Type.String(),
    lastUsedAt: Type.Union([Type.String(), Type.Null()]),
    cloneSuspected: Type.Boolean({ description: 'The signature counter went backwards: this passkey no longer signs in' }),
  },
  { $id: 'Passkey', title: 'Passkey' },
);

export const PasskeyList = Type.Object({ passkeys: Type.Array(Type.Ref('Passkey')) });
export const PasskeyIdParam = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const PasskeyName = Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' });
export const RenamePasskeyBody = Type.Object({ name: PasskeyName }, { additionalProperties: false });

/** What `navigator.credentials.create()` answered, as @simplewebauthn/browser serializes it. */
export const RegistrationResponseBody = Type.Object(
  {
    id: B64(1024),
    rawId: B64(1024),
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: B64(4096),
      attestationObject: B64(16_384),
      authenticatorData: Type.Optional(B64(16_384)),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
      publicKeyAlgorithm: Type.Optional(Type.Integer()),
      publicKey: Type.Optional(B64(4096)),
    }),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
    clientExtensionResults: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 20 }),
  },
  { $id: 'WebAuthnRegistrationResponse', title: 'WebAuthnRegistrationResponse' },
);

/** What `navigator.credentials.get()` answered. */
export const AuthenticationResponseBody = Type.Object(
  {
    id: B64(1024),
    rawId: B64(1024),
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: B64(4096),
      authenticatorData: B64(16_384),
      signature: B64(4096),
      userHandle: Type.Optional(B64(1024)),
    }),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
    clientExtensionResults: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 20 }),
  },
  { $id: 'WebAuthnAuthenticationResponse', title: 'WebAuthnAuthenticationResponse' },
);

export const RegisterPasskeyBody = Type.Object({ name: Type.Optional(PasskeyName), response: Type.Ref('WebAuthnRegistrationResponse') });

/** `PublicKeyCredentialCreationOptionsJSON` / `…RequestOptionsJSON`: passed to the browser as is. */
const OptionsJson = Type.Record(Type.String(), Type.Unknown());
export const RegistrationOptionsResponse = Type.Object({ options: OptionsJson });

export const AuthenticationOptionsBody = Type.Object(
  { mfaTempToken: Type.Optional(Type.String({ maxLength: 512 })) },
  { additionalProperties: false },
);
export const AuthenticationOptionsResponse = Type.Object({
  flowId: Type.String({ description: 'Names this ceremony in the verification request (single use, 5 minutes)' }),
  options: OptionsJson,
});

export const AuthenticatePasskeyBody = Type.Object({
  flowId: Type.String({ minLength: 16, maxLength: 64 }),
  response: Type.Ref('WebAuthnAuthenticationResponse'),
  mfaTempToken: Type.Optional(Type.String({ maxLength: 512 })),
  web: Type.Optional(Type.Boolean()),
});
