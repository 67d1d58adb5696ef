import { type FormEvent, useState } from 'react';
import { api } from '../api/api';
import { Link } from '../router';
import { Field, Notice, PageTitle, useAction } from '../ui';

/** Reads a secret from the URL fragment (never sent to a server), then drops it from the address bar and history. */
function takeFromHash(name: string): string {
  const value = new URLSearchParams(location.hash.slice(1)).get(name) ?? '';
  if (value) history.replaceState(null, '', location.pathname + location.search);
  return value;
}

export function VerifyEmail() {
  const [code, setCode] = useState(() => takeFromHash('code'));
  const [done, setDone] = useState(false);
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      await api.verifyEmail(code.trim());
      setDone(true);
    });
  };
  return (
    <main className="card narrow" id="main">
      <PageTitle>Verify your email address</PageTitle>
      {done ? (
        <>
          <Notice kind="success">Your email address is verified.</Notice>
          <p>
            <Link href="/">Continue</Link>
          </p>
        </>
      ) : (
        <form onSubmit={submit} noValidate aria-label="Verify your email address">
          <Field
            label="Verification code"
            name="code"
            value={code}
            onChange={setCode}
            required
            maxLength={128}
            autoComplete="one-time-code"
            error={action.error}
          />
          <button type="submit" disabled={action.busy}>
            Verify
          </button>
        </form>
      )}
    </main>
  );
}

export function ResetPassword() {
  const [token, setToken] = useState(() => takeFromHash('token'));
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [mismatch, setMismatch] = useState<string>();
  const [done, setDone] = useState(false);
  const action = useAction();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setMismatch(undefined);
    if (password !== confirm) {
      setMismatch('The passwords do not match.');
      return;
    }
    void action.run(async () => {
      await api.resetPassword(token.trim(), password);
      setDone(true);
    });
  };
  return (
    <main className="card narrow" id="main">
      <PageTitle>Choose a new password</PageTitle>
      {done ? (
        <>
          <Notice kind="success">Your password is changed. Every session was signed out.</Notice>
          <p>
            <Link href="/">Sign in</Link>
          </p>
        </>
      ) : (
        <form onSubmit={submit} noValidate aria-label="Choose a new password">
          {!token && <Field label="Reset token" name="token" value={token} onChange={setToken} required maxLength={512} />}
          <Field
            label="New password"
            name="newPassword"
            type="password"
            value={password}
            onChange={setPassword}
            autoComplete="new-password"
            required
            error={action.error}
          />
          <Field
            label="Repeat the new password"
            name="confirmPassword"
            type="password"
            value={confirm}
            onChange={setConfirm}
            autoComplete="new-password"
            required
            error={mismatch}
          />
          <button type="submit" disabled={action.busy}>
            Set password
          </button>
        </form>
      )}
    </main>
  );
}
