import { type FormEvent, useState } from 'react';
import { api, type User } from '../api/api';
import { Field, SecretOnce, useAction } from '../ui';

/**
 * TOTP enrolment: a pending secret with its QR code and recovery codes (shown once,
 * downloadable), confirmed with a code from the app.
 */
export function TotpEnrolment({
  onDone,
  confirmLabel = 'Turn on two-step verification',
}: {
  onDone: (user: User) => void;
  confirmLabel?: string;
}) {
  const [pending, setPending] = useState<User>();
  const [code, setCode] = useState('');
  const start = useAction();
  const confirm = useAction();

  const begin = () => start.run(async () => setPending(await api.updateMe({ regenerateTempMfaSecret: true })));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void confirm.run(async () => {
      const user = await api.updateMe({ otpCode: code.trim(), user: { mfaEnabled: true } });
      onDone(user);
    });
  };

  if (!pending) {
    return (
      <div>
        <p>Use an authenticator app (1Password, Google Authenticator, Aegis, …) to add a code to each sign-in.</p>
        {start.error && <p className="field-error">{start.error}</p>}
        <button type="button" onClick={() => void begin()} disabled={start.busy}>
          Set up an authenticator app
        </button>
      </div>
    );
  }
  return (
    <div className="enrol">
      <ol>
        <li>
          <p>Scan this code with your authenticator app, or enter the key by hand.</p>
          {pending.qrCodeDataUrl && (
            <img className="qr" src={pending.qrCodeDataUrl} alt="QR code for your authenticator app" width={200} height={200} />
          )}
          <p>
            Key: <code data-testid="totp-secret">{pending.tempOtpSecret}</code>
          </p>
        </li>
        <li>
          {pending.tempRecoveryCodes && (
            <SecretOnce label="Recovery codes" value={pending.tempRecoveryCodes.join('\n')} fileName="portcullis-recovery-codes.txt" />
          )}
        </li>
        <li>
          <form onSubmit={submit} noValidate>
            <Field
              label="Code from the app"
              name="otpCode"
              value={code}
              onChange={setCode}
              autoComplete="one-time-code"
              inputMode="numeric"
              maxLength={8}
              required
              error={confirm.error}
            />
            <button type="submit" disabled={confirm.busy}>
              {confirmLabel}
            </button>
          </form>
        </li>
      </ol>
    </div>
  );
}
