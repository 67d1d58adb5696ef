import { type FormEvent, useEffect, useState } from 'react';
import { type ApiKey, api, type OwnSession } from '../api/api';
import { useSession, useUser } from '../session';
import { Field, Notice, PageTitle, RelativeTime, SecretOnce, TableWrap, useAction } from '../ui';
import { TotpEnrolment } from './Enrol';
import { PasskeysSection } from './Passkeys';

export function Profile() {
  const user = useUser();
  const session = useSession();
  const [form, setForm] = useState({
    firstName: user.firstName ?? '',
    lastName: user.lastName ?? '',
    title: user.title ?? '',
    phone: user.phone ?? '',
    email: user.email ?? '',
  });
  const [saved, setSaved] = useState<string>();
  const save = useAction();
  const verify = useAction();
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(undefined);
    void save.run(async () => {
      const changes: Record<string, string> = {};
      for (const [k, v] of Object.entries(form)) if (v !== ((user as unknown as Record<string, unknown>)[k] ?? '')) changes[k] = v;
      const updated = await api.updateMe({ user: changes });
      session.setUser(updated);
      setSaved(
        changes.email && updated.email !== changes.email
          ? 'Saved. Your new email address takes effect once you follow the link we mailed to it.'
          : 'Saved.',
      );
    });
  };
  return (
    <>
      <PageTitle>Profile</PageTitle>
      <dl className="facts">
        <dt>User name</dt>
        <dd>{user.userName}</dd>
        <dt>Roles</dt>
        <dd>{user.roles.join(', ') || '—'}</dd>
        <dt>Email</dt>
        <dd>
          {user.email ?? '—'}{' '}
          {user.email && (user.emailVerified ? <span className="badge ok">verified</span> : <span className="badge">not verified</span>)}
        </dd>
        <dt>Two-step verification</dt>
        <dd>{user.mfaEnabled ? 'on' : 'off'}</dd>
        <dt>Last sign-in</dt>
        <dd>
          <RelativeTime value={user.lastLogIn} />
        </dd>
      </dl>
      {user.email && !user.emailVerified && (
        <div className="row">
          <button
            type="button"
            className="secondary"
            disabled={verify.busy}
            onClick={() => void verify.run(() => api.requestVerification())}
          >
            Send verification mail
          </button>
          {verify.error && <p className="field-error">{verify.error}</p>}
        </div>
      )}
      <form onSubmit={submit} noValidate aria-label="Edit profile" className="grid-form">
        <Field
          label="First name"
          name="firstName"
          value={form.firstName}
          onChange={set('firstName')}
          autoComplete="given-name"
          maxLength={256}
        />
        <Field
          label="Last name"
          name="lastName"
          value={form.lastName}
          onChange={set('lastName')}
          autoComplete="family-name"
          maxLength={256}
        />
        <Field label="Title" name="title" value={form.title} onChange={set('title')} autoComplete="organization-title" maxLength={256} />
        <Field label="Phone" name="phone" type="tel" value={form.phone} onChange={set('phone')} autoComplete="tel" maxLength={32} />
        <Field
          label="Email"
          name="email"
          type="email"
          value={form.email}
          onChange={set('email')}
          autoComplete="email"
          maxLength={254}
          error={save.error}
        />
        <div>
          <button type="submit" disabled={save.busy}>
            Save profile
          </button>
        </div>
      </form>
      {saved && <Notice kind="success">{saved}</Notice>}
    </>
  );
}

export function Security() {
  const user = useUser();
  const session = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [changed, setChanged] = useState(false);
  const change = useAction();
  const [off, setOff] = useState('');
  const disable = useAction();
  const [codes, setCodes] = useState<string[]>();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setChanged(false);
    void change.run(async () => {
      const r = await api.changePassword(current, next);
      setCurrent('');
      setNext('');
      setChanged(true);
      if (r.user) session.setUser(r.user);
    });
  };
  const turnOff = (e: FormEvent) => {
    e.preventDefault();
    void disable.run(async () => {
      const code = off.replace(/\s+/g, '');
      const updated = await api.updateMe({
        ...(/^\d{6,8}$/.test(code) ? { otpCode: code } : { recoveryCode: code }),
        user: { mfaEnabled: false },
      });
      setOff('');
      session.setUser(updated);
    });
  };
  const regenerate = (e: FormEvent) => {
    e.preventDefault();
    void disable.run(async () => {
      const updated = await api.updateMe({ regenerateRecoveryCodes: true, otpCode: off.replace(/\s+/g, '') });
      setOff('');
      setCodes(updated.tempRecoveryCodes);
    });
  };
  return (
    <>
      <PageTitle>Security</PageTitle>
      <section aria-labelledby="pw-h">
        <h2 id="pw-h">Password</h2>
        <form onSubmit={submit} noValidate aria-label="Change password">
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
            error={change.error}
          />
          <button type="submit" disabled={change.busy}>
            Change password
          </button>
        </form>
        {changed && <Notice kind="success">Password changed. Your other sessions were signed out.</Notice>}
      </section>
      <section aria-labelledby="mfa-h">
        <h2 id="mfa-h">Two-step verification</h2>
        {user.mfaEnabled ? (
          <>
            <p>On. {user.recoveryCodesRemaining !== undefined && <>{user.recoveryCodesRemaining} recovery codes left.</>}</p>
            {codes && <SecretOnce label="New recovery codes" value={codes.join('\n')} fileName="portcullis-recovery-codes.txt" />}
            <form onSubmit={turnOff} noValidate aria-label="Two-step verification settings">
              <Field
                label="Authenticator code or recovery code"
                name="mfaCode"
                value={off}
                onChange={setOff}
                autoComplete="one-time-code"
                maxLength={64}
                error={disable.error}
              />
              <div className="row">
                <button type="submit" className="danger" disabled={disable.busy}>
                  Turn off
                </button>
                <button type="button" className="secondary" disabled={disable.busy} onClick={regenerate}>
                  New recovery codes
                </button>
              </div>
            </form>
          </>
        ) : (
          <TotpEnrolment onDone={(u) => session.setUser(u)} />
        )}
      </section>
      <section aria-labelledby="pk-h">
        <h2 id="pk-h">Passkeys</h2>
        <PasskeysSection />
      </section>
    </>
  );
}

export const SCOPE_LABELS: Record<string, string> = {
  'users:read': 'Read users',
  'users:write': 'Manage users',
  'credentials:write': 'Set passwords',
  'apikeys:write': 'Manage API keys',
  'profile:write': 'Edit own profile',
  'organizations:write': 'Manage organizations',
  'idps:write': 'Manage identity providers',
  'logins:read': 'Read vault logins',
  'logins:write': 'Manage vault logins',
  'logins:reveal': 'Reveal vault passwords',
  'audit:read': 'Read the audit log',
};

/** API keys: the caller's own (account) or every key the caller may see (admin). */
export function ApiKeys({ own }: { own: boolean }) {
  const user = useUser();
  const [keys, setKeys] = useState<ApiKey[]>();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>([]);
  const [created, setCreated] = useState<ApiKey>();
  const load = useAction();
  const create = useAction();
  const revoke = useAction();
  const refresh = () => load.run(async () => setKeys(await api.listApiKeys()));
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once
  useEffect(() => {
    void refresh();
  }, []);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void create.run(async () => {
      const key = await api.createApiKey({ name: name.trim(), ...(scopes.length ? { scopes } : {}) });
      setCreated(key);
      setName('');
      setScopes([]);
      await refresh();
    });
  };
  const shown = (keys ?? []).filter((k) => !own || k.ownerId === user.id);
  const available = Object.keys(SCOPE_LABELS).filter((s) => s !== 'logins:reveal' || !own);
  return (
    <>
      <PageTitle>{own ? 'My API keys' : 'API keys'}</PageTitle>
      {created && <SecretOnce label={`Secret of “${created.name}” (key ${created.key})`} value={created.clientSecret} />}
      <form onSubmit={submit} noValidate aria-label="Create an API key">
        <Field label="Key name" name="keyName" value={name} onChange={setName} required maxLength={128} error={create.error} />
        <fieldset className="scopes">
          <legend>Scopes (none: everything you hold)</legend>
          {available.map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                name="scopes"
                value={s}
                checked={scopes.includes(s)}
                onChange={(e) => setScopes((list) => (e.target.checked ? [...list, s] : list.filter((x) => x !== s)))}
              />
              {SCOPE_LABELS[s]} <code>{s}</code>
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={create.busy || !name.trim()}>
          Create API key
        </button>
      </form>
      {load.error && <Notice kind="error">{load.error}</Notice>}
      {revoke.error && <Notice kind="error">{revoke.error}</Notice>}
      <TableWrap label="API keys">
        <table>
          <caption className="sr-only">API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((k) => (
              <tr key={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.key}</code>
                </td>
                <td>{k.scopes.join(', ')}</td>
                <td>
                  <RelativeTime value={k.createdDate} />
                </td>
                <td>
                  <RelativeTime value={k.lastUsedDate} />
                </td>
                <td>
                  {k.revoked ? (
                    'revoked'
                  ) : (
                    <button
                      type="button"
                      className="secondary small"
                      aria-label={`Revoke ${k.name}`}
                      onClick={() =>
                        void revoke.run(async () => {
                          await api.revokeApiKey(k.id);
                          await refresh();
                        })
                      }
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
            {keys && shown.length === 0 && (
              <tr>
                <td colSpan={6}>No API keys yet.</td>
              </tr>
            )}
          </tbody>
        </table>
      </TableWrap>
    </>
  );
}

/** A short description of a browser from its user agent. */
function describeAgent(ua: string | null): string {
  if (!ua) return 'Unknown client';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Chrome\//.test(ua)
      ? 'Chrome'
      : /Firefox\//.test(ua)
        ? 'Firefox'
        : /Safari\//.test(ua)
          ? 'Safari'
          : /curl\//.test(ua)
            ? 'curl'
            : 'Other client';
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Mac OS X/.test(ua)
      ? 'macOS'
      : /Android/.test(ua)
        ? 'Android'
        : /iPhone|iPad/.test(ua)
          ? 'iOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return os ? `${browser} on ${os}` : browser;
}

export function Sessions() {
  const session = useSession();
  const [sessions, setSessions] = useState<OwnSession[]>();
  const load = useAction();
  const revoke = useAction();
  const refresh = () => load.run(async () => setSessions(await api.listSessions()));
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once
  useEffect(() => {
    void refresh();
  }, []);
  return (
    <>
      <PageTitle>Sessions</PageTitle>
      <p>Where you are signed in. Ending a session signs that browser or app out within a second.</p>
      {load.error && <Notice kind="error">{load.error}</Notice>}
      {revoke.error && <Notice kind="error">{revoke.error}</Notice>}
      <TableWrap label="Active sessions">
        <table>
          <caption className="sr-only">Active sessions</caption>
          <thead>
            <tr>
              <th scope="col">Client</th>
              <th scope="col">Address</th>
              <th scope="col">Signed in</th>
              <th scope="col">Last active</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(sessions ?? []).map((s) => (
              <tr key={s.id}>
                <td>
                  {describeAgent(s.userAgent)} {s.current && <span className="badge ok">this browser</span>}
                  <br />
                  <small>via {s.method}</small>
                </td>
                <td>{s.ip ?? '—'}</td>
                <td>
                  <RelativeTime value={s.createdAt} />
                </td>
                <td>
                  <RelativeTime value={s.lastSeenAt} />
                </td>
                <td>
                  <button
                    type="button"
                    className="secondary small"
                    aria-label={
                      s.current
                        ? 'Sign out of this browser'
                        : `End the session from ${describeAgent(s.userAgent)} at ${s.ip ?? 'an unknown address'}`
                    }
                    onClick={() =>
                      void revoke.run(async () => {
                        if (s.current) return session.signOut();
                        await api.revokeSession(s.id);
                        await refresh();
                      })
                    }
                  >
                    {s.current ? 'Sign out' : 'End session'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </>
  );
}
