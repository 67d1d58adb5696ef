import { browserSupportsWebAuthn, startAuthentication } from '@simplewebauthn/browser';
import { type FormEvent, useEffect, useState } from 'react';
import { api, type IdentityProvider, type LoginResult } from '../api/api';
import { ApiError, signOut } from '../api/client';
import { useBranding } from '../branding';
import { navigate, safeReturnTo, useLocation } from '../router';
import { type Restriction, useSession } from '../session';
import { Field, Notice, PageTitle, useAction } from '../ui';
import { TotpEnrolment } from './Enrol';

type Step =
  | { kind: 'credentials' }
  | { kind: 'mfa'; token: string }
  | { kind: 'forgot' }
  | { kind: 'forgot-sent'; message: string }
  | { kind: 'change-password' }
  | { kind: 'enrol' }
  | { kind: 'enrolled' };

const GENERIC = 'The user name or password is incorrect.';

/** Where to go once fully signed in. */
export function useReturnTo(): string {
  const { search } = useLocation();
  return safeReturnTo(search.get('returnTo')) ?? '/account';
}

function goTo(target: string) {
  // A path on this origin that the console owns stays in the app; anything else (an OpenID
  // Provider's interaction page) is a full navigation.
  if (/^\/(account|admin)(\/|$|\?)/.test(target)) navigate(target, { replace: true });
  else location.assign(target);
}

export function SignIn() {
  const session = useSession();
  const returnTo = useReturnTo();
  const { search } = useLocation();
  const branding = useBranding();
  const reason = session.state.status === 'anonymous' ? session.state.reason : undefined;
  const initial: Step =
    session.state.status === 'signed-in' && session.state.restriction === 'password_change'
      ? { kind: 'change-password' }
      : session.state.status === 'signed-in' && session.state.restriction === 'mfa_enroll'
        ? { kind: 'enrol' }
        : { kind: 'credentials' };
  const [step, setStep] = useState<Step>(initial);
  const [identifier, setIdentifier] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const action = useAction();
  const [idps, setIdps] = useState<IdentityProvider[]>([]);

  // An identity provider's callback hands the MFA step over in the fragment.
  useEffect(() => {
    const hash = new URLSearchParams(location.hash.slice(1));
    const token = hash.get('mfaTempToken');
    if (token) {
      history.replaceState(null, '', location.pathname + location.search);
      setStep({ kind: 'mfa', token });
    }
  }, []);

  useEffect(() => {
    const org = search.get('org') ?? branding?.organizationId;
    fetch(`/v1/idps${org ? `?organizationId=${encodeURIComponent(org)}` : ''}`, { credentials: 'omit' })
      .then((r) => (r.ok ? r.json() : { identityProviders: [] }))
      .then((b: { identityProviders?: IdentityProvider[] }) => setIdps(b.identityProviders ?? []))
      .catch(() => setIdps([]));
  }, [search, branding?.organizationId]);

  useEffect(() => {
    if (session.state.status === 'signed-in' && !session.state.restriction && step.kind !== 'enrolled') goTo(returnTo);
  }, [session.state, returnTo, step.kind]);

  const finish = async (result: LoginResult) => {
    if (result.mfaTempToken) {
      setStep({ kind: 'mfa', token: result.mfaTempToken });
      return;
    }
    setPassword('');
    setCode('');
    const restriction: Restriction | undefined = result.requireResetPassword
      ? 'password_change'
      : result.requireMfaEnrollment
        ? 'mfa_enroll'
        : undefined;
    if (restriction === 'password_change') setStep({ kind: 'change-password' });
    if (restriction === 'mfa_enroll') setStep({ kind: 'enrol' });
    await session.signedIn(result.user, restriction);
  };

  const submitCredentials = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      try {
        await finish(await api.signIn(identifier.trim(), password));
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) throw new ApiError(401, err.error, GENERIC);
        throw err;
      }
    });
  };

  const submitMfa = (e: FormEvent) => {
    e.preventDefault();
    if (step.kind !== 'mfa') return;
    void action.run(async () => {
      try {
        await finish(await api.signInMfa(step.token, code.replace(/\s+/g, '')));
      } catch (err) {
        if (err instanceof ApiError && err.status === 401 && err.error === 'auth.invalid_token') {
          setStep({ kind: 'credentials' });
          throw new ApiError(401, err.error, 'The sign-in took too long. Start again.');
        }
        throw err;
      }
    });
  };

  /** Passwordless (no token) or the second step (the mfaTempToken of the password step). */
  const withPasskey = (mfaTempToken?: string) => {
    void action.run(async () => {
      const { flowId, options } = await api.passkeySignInOptions(mfaTempToken);
      let response: Awaited<ReturnType<typeof startAuthentication>>;
      try {
        response = await startAuthentication({ optionsJSON: options });
      } catch {
        throw new Error('No passkey was used.');
      }
      try {
        await finish(await api.signInWithPasskey(flowId, response, mfaTempToken));
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) throw new ApiError(401, err.error, 'That passkey could not sign you in.');
        throw err;
      }
    });
  };
  const webauthn = browserSupportsWebAuthn();

  const submitForgot = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const r = await api.requestReset(identifier.trim());
      setStep({ kind: 'forgot-sent', message: r.message });
    });
  };

  const title = branding?.displayName ?? 'Portcullis';
  return (
    <main className="card narrow" id="main">
      {branding?.logoUrl && <img className="logo" src={branding.logoUrl} alt="" height={48} />}
      {step.kind === 'credentials' && (
        <>
          <PageTitle>Sign in to {title}</PageTitle>
          {reason === 'expired' && <Notice>Your session ended. Sign in again.</Notice>}
          <form onSubmit={submitCredentials} noValidate aria-label="Sign in">
            <Field
              label="User name or email"
              name="username"
              value={identifier}
              onChange={setIdentifier}
              autoComplete="username"
              required
              autoFocus
              maxLength={320}
            />
            <Field
              label="Password"
              name="password"
              type="password"
              value={password}
              onChange={setPassword}
              autoComplete="current-password"
              required
              maxLength={4096}
              error={action.error}
            />
            <button type="submit" disabled={action.busy}>
              Sign in
            </button>
          </form>
          <p>
            <button type="button" className="link" onClick={() => setStep({ kind: 'forgot' })}>
              Forgot your password?
            </button>
          </p>
          {webauthn && (
            <button type="button" className="secondary wide" onClick={() => withPasskey()} disabled={action.busy}>
              Sign in with a passkey
            </button>
          )}
          {idps.length > 0 && (
            <section aria-label="Other ways to sign in" className="idps">
              <p className="divider">or</p>
              {idps.map((idp) => (
                <a
                  key={idp.id}
                  className="button secondary"
                  href={`/v1/idps/${encodeURIComponent(idp.id)}/authorize?returnTo=${encodeURIComponent(`${location.origin}/${location.search}`)}`}
                >
                  Continue with {idp.title || idp.id}
                </a>
              ))}
            </section>
          )}
        </>
      )}
      {step.kind === 'mfa' && (
        <>
          <PageTitle>Two-step verification</PageTitle>
          <form onSubmit={submitMfa} noValidate aria-label="Two-step verification">
            <Field
              label="Authenticator code or recovery code"
              name="otpCode"
              value={code}
              onChange={setCode}
              autoComplete="one-time-code"
              required
              autoFocus
              maxLength={64}
              hint="The 6-digit code from your app, or one of your recovery codes."
              error={action.error}
            />
            <button type="submit" disabled={action.busy}>
              Verify
            </button>
          </form>
          {webauthn && (
            <button type="button" className="secondary wide" onClick={() => withPasskey(step.token)} disabled={action.busy}>
              Use a passkey instead
            </button>
          )}
          <p>
            <button type="button" className="link" onClick={() => setStep({ kind: 'credentials' })}>
              Back
            </button>
          </p>
        </>
      )}
      {step.kind === 'forgot' && (
        <>
          <PageTitle>Reset your password</PageTitle>
          <p>Enter your user name or email. If the account exists and its address is verified, we send a link.</p>
          <form onSubmit={submitForgot} noValidate aria-label="Reset your password">
            <Field
              label="User name or email"
              name="username"
              value={identifier}
              onChange={setIdentifier}
              autoComplete="username"
              required
              autoFocus
              maxLength={320}
              error={action.error}
            />
            <button type="submit" disabled={action.busy}>
              Send reset link
            </button>
          </form>
          <p>
            <button type="button" className="link" onClick={() => setStep({ kind: 'credentials' })}>
              Back to sign in
            </button>
          </p>
        </>
      )}
      {step.kind === 'forgot-sent' && (
        <>
          <PageTitle>Check your mail</PageTitle>
          <Notice kind="success">{step.message}</Notice>
          <p>
            <button type="button" className="link" onClick={() => setStep({ kind: 'credentials' })}>
              Back to sign in
            </button>
          </p>
        </>
      )}
      {step.kind === 'change-password' && <ForcedPasswordChange onDone={() => goTo(returnTo)} />}
      {step.kind === 'enrol' && (
        <>
          <PageTitle>Set up two-step verification</PageTitle>
          <Notice>Your organization requires two-step verification before you continue.</Notice>
          <TotpEnrolment onDone={() => setStep({ kind: 'enrolled' })} />
        </>
      )}
      {step.kind === 'enrolled' && (
        <>
          <PageTitle>Two-step verification is on</PageTitle>
          <p>Sign in again with your password and a code from your app.</p>
          <button
            type="button"
            onClick={() => {
              void signOut('enrolled').then(() => setStep({ kind: 'credentials' }));
            }}
          >
            Sign in again
          </button>
        </>
      )}
    </main>
  );
}

function ForcedPasswordChange({ onDone }: { onDone: () => void }) {
  const session = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const action = useAction();
  const [mismatch, setMismatch] = useState<string>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setMismatch(undefined);
    if (next !== confirm) {
      setMismatch('The passwords do not match.');
      return;
    }
    void action.run(async () => {
      const r = await api.changePassword(current, next);
      await session.signedIn(r.user);
      onDone();
    });
  };
  return (
    <>
      <PageTitle>Choose a new password</PageTitle>
      <Notice>You must change your password before you continue.</Notice>
      <form onSubmit={submit} noValidate aria-label="Choose a new password">
        <Field
          label="Current password"
          name="currentPassword"
          type="password"
          value={current}
          onChange={setCurrent}
          autoComplete="current-password"
          required
        />
        <Field
          label="New password"
          name="newPassword"
          type="password"
          value={next}
          onChange={setNext}
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
          Change password
        </button>
      </form>
      <p>
        <button type="button" className="link" onClick={() => void session.signOut()}>
          Sign out
        </button>
      </p>
    </>
  );
}
