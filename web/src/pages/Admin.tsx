import { type FormEvent, useEffect, useState } from 'react';
import { type AuditEvent, api, type IdentityProvider, type Organization, type User, type VaultLogin } from '../api/api';
import { Link, navigate } from '../router';
import { useUser } from '../session';
import { Checkbox, Field, Notice, PageTitle, RelativeTime, TableWrap, useAction } from '../ui';

/** Keyset paging over the API's cursors: the tokens seen so far make "Previous" possible. */
function usePager() {
  const [tokens, setTokens] = useState<string[]>(['']);
  const [next, setNext] = useState('');
  const current = tokens[tokens.length - 1] ?? '';
  return {
    current,
    setNext,
    reset: () => setTokens(['']),
    controls: (
      <nav className="pager" aria-label="Pages">
        <button type="button" className="secondary small" disabled={tokens.length <= 1} onClick={() => setTokens((t) => t.slice(0, -1))}>
          Previous
        </button>
        <span>Page {tokens.length}</span>
        <button type="button" className="secondary small" disabled={!next} onClick={() => setTokens((t) => [...t, next])}>
          Next
        </button>
      </nav>
    ),
  };
}

const PAGE = 25;

export function Users() {
  const me = useUser();
  const [query, setQuery] = useState('');
  const [applied, setApplied] = useState('');
  const [users, setUsers] = useState<User[]>();
  const pager = usePager();
  const load = useAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload on the query and the page only (run and setNext are stable)
  useEffect(() => {
    const q = applied.trim();
    void load.run(async () => {
      const r = await api.listUsers({
        ...(q.includes('@') ? { email: q } : q ? { userName: q } : {}),
        pageSize: PAGE,
        ...(pager.current ? { pageToken: pager.current } : {}),
      });
      setUsers(r.users);
      pager.setNext(r.nextPageToken);
    });
  }, [applied, pager.current]);
  const search = (e: FormEvent) => {
    e.preventDefault();
    pager.reset();
    setApplied(query);
  };
  return (
    <>
      <PageTitle>Users</PageTitle>
      <div className="row spread">
        <search>
          <form onSubmit={search} className="row" aria-label="Search users">
            <Field label="User name or email" name="q" value={query} onChange={setQuery} maxLength={254} />
            <button type="submit" className="secondary">
              Search
            </button>
          </form>
        </search>
        <Link className="button" href="/admin/users/new">
          New user
        </Link>
      </div>
      {load.error && <Notice kind="error">{load.error}</Notice>}
      <TableWrap label="Users">
        <table>
          <caption className="sr-only">Users</caption>
          <thead>
            <tr>
              <th scope="col">User name</th>
              <th scope="col">Email</th>
              <th scope="col">Roles</th>
              <th scope="col">State</th>
              <th scope="col">MFA</th>
              <th scope="col">Last sign-in</th>
            </tr>
          </thead>
          <tbody>
            {(users ?? []).map((u) => (
              <tr key={u.id}>
                <td>{u.id === me.id ? u.userName : <Link href={`/admin/users/${u.id}`}>{u.userName}</Link>}</td>
                <td>{u.email ?? '—'}</td>
                <td>{u.roles.join(', ')}</td>
                <td>{u.state}</td>
                <td>{u.mfaEnabled ? 'on' : 'off'}</td>
                <td>
                  <RelativeTime value={u.lastLogIn} />
                </td>
              </tr>
            ))}
            {users && users.length === 0 && (
              <tr>
                <td colSpan={6}>No users match.</td>
              </tr>
            )}
          </tbody>
        </table>
      </TableWrap>
      {pager.controls}
    </>
  );
}

const ROLES = ['member', 'admin', 'owner'];

export function NewUser() {
  const [form, setForm] = useState({ userName: '', email: '', firstName: '', lastName: '', password: '', role: 'member' });
  const [mustChange, setMustChange] = useState(true);
  const action = useAction();
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void action.run(async () => {
      const user = await api.createUser({
        userName: form.userName.trim(),
        ...(form.email.trim() ? { email: form.email.trim() } : {}),
        ...(form.firstName ? { firstName: form.firstName } : {}),
        ...(form.lastName ? { lastName: form.lastName } : {}),
        ...(form.password ? { password: form.password, requireResetPassword: mustChange } : {}),
        roles: [form.role],
      });
      navigate(`/admin/users/${user.id}`);
    });
  };
  return (
    <>
      <PageTitle>New user</PageTitle>
      <form onSubmit={submit} noValidate aria-label="New user" className="grid-form">
        <Field
          label="User name"
          name="userName"
          value={form.userName}
          onChange={set('userName')}
          required
          maxLength={128}
          autoComplete="off"
        />
        <Field label="Email" name="email" type="email" value={form.email} onChange={set('email')} maxLength={254} autoComplete="off" />
        <Field label="First name" name="firstName" value={form.firstName} onChange={set('firstName')} maxLength={256} autoComplete="off" />
        <Field label="Last name" name="lastName" value={form.lastName} onChange={set('lastName')} maxLength={256} autoComplete="off" />
        <Field
          label="Password (optional)"
          name="password"
          type="password"
          value={form.password}
          onChange={set('password')}
          autoComplete="new-password"
        />
        <RoleSelect value={form.role} onChange={set('role')} />
        <Checkbox label="Must change the password at first sign-in" name="mustChange" checked={mustChange} onChange={setMustChange} />
        {action.error && <Notice kind="error">{action.error}</Notice>}
        <div>
          <button type="submit" disabled={action.busy}>
            Create user
          </button>
        </div>
      </form>
    </>
  );
}

function RoleSelect({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <div className="field">
      <label htmlFor="role">Role</label>
      <select id="role" name="role" value={value} onChange={(e) => onChange(e.target.value)}>
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
    </div>
  );
}

export function UserDetail({ id }: { id: string }) {
  const [user, setUser] = useState<User>();
  const [form, setForm] = useState({ email: '', firstName: '', lastName: '', title: '', role: 'member' });
  const [password, setPassword] = useState('');
  const [mustChange, setMustChange] = useState(true);
  const [done, setDone] = useState<string>();
  const load = useAction();
  const save = useAction();
  const pw = useAction();
  const life = useAction();
  const fill = (u: User) => {
    setUser(u);
    setForm({
      email: u.email ?? '',
      firstName: u.firstName ?? '',
      lastName: u.lastName ?? '',
      title: u.title ?? '',
      role: u.roles.find((r) => ROLES.includes(r)) ?? 'member',
    });
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: load on the id
  useEffect(() => {
    void load.run(async () => fill(await api.getUser(id)));
  }, [id]);
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  if (!user) return load.error ? <Notice kind="error">{load.error}</Notice> : <p>Loading…</p>;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setDone(undefined);
    void save.run(async () => {
      fill(
        await api.updateUser(id, {
          ...(form.email.trim() ? { email: form.email.trim() } : {}),
          firstName: form.firstName,
          lastName: form.lastName,
          title: form.title,
          roles: [form.role],
        }),
      );
      setDone('Saved.');
    });
  };
  const setPw = (e: FormEvent) => {
    e.preventDefault();
    setDone(undefined);
    void pw.run(async () => {
      await api.setUserPassword(id, user.userName, password, mustChange);
      setPassword('');
      fill(await api.getUser(id));
      setDone('Password set. The user’s sessions were signed out.');
    });
  };
  const lifecycle = (label: string, fn: () => Promise<unknown>) =>
    void life.run(async () => {
      await fn();
      fill(await api.getUser(id));
      setDone(label);
    });
  return (
    <>
      <PageTitle>{user.userName}</PageTitle>
      <dl className="facts">
        <dt>State</dt>
        <dd>{user.state}</dd>
        <dt>Type</dt>
        <dd>{user.userType}</dd>
        <dt>Two-step verification</dt>
        <dd>{user.mfaEnabled ? 'on' : 'off'}</dd>
        <dt>Must change password</dt>
        <dd>{user.requireResetPassword ? 'yes' : 'no'}</dd>
        <dt>Created</dt>
        <dd>
          <RelativeTime value={user.createdAt} />
        </dd>
        <dt>Last sign-in</dt>
        <dd>
          <RelativeTime value={user.lastLogIn} />
        </dd>
      </dl>
      {done && <Notice kind="success">{done}</Notice>}
      <section aria-labelledby="edit-h">
        <h2 id="edit-h">Profile</h2>
        <form onSubmit={submit} noValidate aria-label="Edit user" className="grid-form">
          <Field label="Email" name="email" type="email" value={form.email} onChange={set('email')} maxLength={254} autoComplete="off" />
          <Field
            label="First name"
            name="firstName"
            value={form.firstName}
            onChange={set('firstName')}
            maxLength={256}
            autoComplete="off"
          />
          <Field label="Last name" name="lastName" value={form.lastName} onChange={set('lastName')} maxLength={256} autoComplete="off" />
          <Field label="Title" name="title" value={form.title} onChange={set('title')} maxLength={256} autoComplete="off" />
          <RoleSelect value={form.role} onChange={set('role')} />
          {save.error && <Notice kind="error">{save.error}</Notice>}
          <div>
            <button type="submit" disabled={save.busy}>
              Save
            </button>
          </div>
        </form>
      </section>
      <section aria-labelledby="pw-h">
        <h2 id="pw-h">Password</h2>
        <form onSubmit={setPw} noValidate aria-label="Set password">
          <Field
            label="New password"
            name="newPassword"
            type="password"
            value={password}
            onChange={setPassword}
            autoComplete="new-password"
            required
            error={pw.error}
          />
          <Checkbox label="Must change it at next sign-in" name="mustChangePassword" checked={mustChange} onChange={setMustChange} />
          <div className="row">
            <button type="submit" disabled={pw.busy || !password}>
              Set password
            </button>
            <button
              type="button"
              className="secondary"
              disabled={life.busy}
              onClick={() =>
                lifecycle('The user must choose a new password at next sign-in.', () => api.updateUser(id, { requireResetPassword: true }))
              }
            >
              Force a password change
            </button>
          </div>
        </form>
      </section>
      <section aria-labelledby="life-h">
        <h2 id="life-h">Account</h2>
        {life.error && <Notice kind="error">{life.error}</Notice>}
        <div className="row">
          <button
            type="button"
            className="secondary"
            disabled={life.busy}
            onClick={() => {
              if (
                confirm(`Reset two-step verification for ${user.userName}? Their authenticator, recovery codes and passkeys stop working.`)
              )
                lifecycle('Two-step verification was reset.', () => api.resetUserMfa(id));
            }}
          >
            Reset two-step verification
          </button>
          {user.state === 'ACTIVE' ? (
            <button
              type="button"
              className="danger"
              disabled={life.busy}
              onClick={() => {
                if (confirm(`Deactivate ${user.userName}? Their sessions and API keys stop working.`))
                  lifecycle('Deactivated.', () => api.deleteUser(id));
              }}
            >
              Deactivate
            </button>
          ) : (
            <button
              type="button"
              className="secondary"
              disabled={life.busy}
              onClick={() => lifecycle('Reactivated.', () => api.updateUser(id, { state: 'ACTIVE' }))}
            >
              Reactivate
            </button>
          )}
        </div>
      </section>
    </>
  );
}

export function OrganizationPage() {
  const me = useUser();
  const [orgs, setOrgs] = useState<Organization[]>();
  const [selected, setSelected] = useState<string>(me.organizationId);
  const [policy, setPolicy] = useState<Organization['policy']>();
  const [name, setName] = useState('');
  const [minLength, setMinLength] = useState('');
  const [rotation, setRotation] = useState('');
  const [saved, setSaved] = useState(false);
  const load = useAction();
  const save = useAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once
  useEffect(() => {
    void load.run(async () => setOrgs(await api.listOrganizations()));
  }, []);
  useEffect(() => {
    const org = orgs?.find((o) => o.id === selected);
    if (!org) return;
    setPolicy(org.policy);
    setName(org.name);
    setMinLength(String(org.policy.passwordMinLength));
    setRotation(String(org.policy.passwordRotationDays));
  }, [orgs, selected]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!policy) return;
    setSaved(false);
    void save.run(async () => {
      const updated = await api.updateOrganization(selected, {
        name: name.trim(),
        policy: { ...policy, passwordMinLength: Number(minLength), passwordRotationDays: Number(rotation) },
      });
      setOrgs((list) => list?.map((o) => (o.id === updated.id ? updated : o)));
      setSaved(true);
    });
  };
  return (
    <>
      <PageTitle>Organization</PageTitle>
      {load.error && <Notice kind="error">{load.error}</Notice>}
      {orgs && orgs.length > 1 && (
        <div className="field">
          <label htmlFor="org">Organization</label>
          <select id="org" value={selected} onChange={(e) => setSelected(e.target.value)}>
            {orgs.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </div>
      )}
      {policy && (
        <form onSubmit={submit} noValidate aria-label="Organization policy" className="grid-form">
          <Field label="Name" name="name" value={name} onChange={setName} required maxLength={128} />
          <Field
            label="Minimum password length"
            name="passwordMinLength"
            type="number"
            value={minLength}
            onChange={setMinLength}
            inputMode="numeric"
          />
          <Field
            label="Password rotation (days, 0 = never)"
            name="passwordRotationDays"
            type="number"
            value={rotation}
            onChange={setRotation}
            inputMode="numeric"
          />
          <Checkbox
            label="Require two-step verification"
            name="requireMfa"
            checked={policy.requireMfa}
            onChange={(v) => setPolicy({ ...policy, requireMfa: v })}
          />
          <Checkbox
            label="New users change their password at first sign-in"
            name="requireResetOnFirstLogin"
            checked={policy.requireResetOnFirstLogin}
            onChange={(v) => setPolicy({ ...policy, requireResetOnFirstLogin: v })}
          />
          <Checkbox
            label="A password set by an administrator must be changed"
            name="mustChangePasswordOnAdminSet"
            checked={policy.mustChangePasswordOnAdminSet}
            onChange={(v) => setPolicy({ ...policy, mustChangePasswordOnAdminSet: v })}
          />
          {save.error && <Notice kind="error">{save.error}</Notice>}
          <div>
            <button type="submit" disabled={save.busy}>
              Save policy
            </button>
          </div>
        </form>
      )}
      {saved && <Notice kind="success">Saved.</Notice>}
      <BrandingForm key={selected} organizationId={selected} />
    </>
  );
}

/** The organization's hosted pages: display name, logo, primary colour (sign-in at `/?org=<id>`). */
function BrandingForm({ organizationId }: { organizationId: string }) {
  const [form, setForm] = useState({ displayName: '', logoUrl: '', primaryColor: '' });
  const [saved, setSaved] = useState(false);
  const load = useAction();
  const save = useAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: load on the organization
  useEffect(() => {
    void load.run(async () => {
      const b = await api.getBranding(organizationId);
      setForm({ displayName: b.displayName ?? '', logoUrl: b.logoUrl ?? '', primaryColor: b.primaryColor ?? '' });
    });
  }, [organizationId]);
  const set = (k: keyof typeof form) => (v: string) => setForm((f) => ({ ...f, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(false);
    void save.run(async () => {
      await api.updateBranding(organizationId, {
        displayName: form.displayName.trim() || null,
        logoUrl: form.logoUrl.trim() || null,
        primaryColor: form.primaryColor.trim() || null,
      });
      setSaved(true);
    });
  };
  const signInUrl = `${location.origin}/?org=${encodeURIComponent(organizationId)}`;
  return (
    <section aria-labelledby="brand-h">
      <h2 id="brand-h">Branding of the sign-in pages</h2>
      <p>
        Sign-in link for this organization: <code>{signInUrl}</code>
      </p>
      <form onSubmit={submit} noValidate aria-label="Branding" className="grid-form">
        <Field label="Display name" name="displayName" value={form.displayName} onChange={set('displayName')} maxLength={128} />
        <Field label="Logo URL (https)" name="logoUrl" type="url" value={form.logoUrl} onChange={set('logoUrl')} maxLength={2048} />
        <Field
          label="Primary colour"
          name="primaryColor"
          value={form.primaryColor}
          onChange={set('primaryColor')}
          maxLength={7}
          hint="#rrggbb, e.g. #0b7a55"
          error={save.error}
        />
        <div>
          <button type="submit" disabled={save.busy}>
            Save branding
          </button>
        </div>
      </form>
      {saved && <Notice kind="success">Branding saved.</Notice>}
    </section>
  );
}

export function IdentityProviders() {
  const [idps, setIdps] = useState<IdentityProvider[]>();
  const load = useAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once
  useEffect(() => {
    void load.run(async () => {
      const r = await api.listIdps();
      setIdps(r.identityProviders ?? []);
    });
  }, []);
  return (
    <>
      <PageTitle>Identity providers</PageTitle>
      <p>
        Register providers with <code>POST /v1/idps</code> (see the API reference at <a href="/docs">/docs</a>).
      </p>
      {load.error && <Notice kind="error">{load.error}</Notice>}
      <TableWrap label="Identity providers">
        <table>
          <caption className="sr-only">Identity providers</caption>
          <thead>
            <tr>
              <th scope="col">Title</th>
              <th scope="col">Id</th>
              <th scope="col">Type</th>
              <th scope="col">Domain</th>
              <th scope="col">Redirect URI</th>
            </tr>
          </thead>
          <tbody>
            {(idps ?? []).map((p) => (
              <tr key={p.id}>
                <td>{String(p.title ?? '')}</td>
                <td>
                  <code>{p.id}</code>
                </td>
                <td>{String(p.type ?? '')}</td>
                <td>{String(p.domain ?? '—')}</td>
                <td>
                  <code>{String(p.redirectUri ?? '—')}</code>
                </td>
              </tr>
            ))}
            {idps && idps.length === 0 && (
              <tr>
                <td colSpan={5}>No identity providers.</td>
              </tr>
            )}
          </tbody>
        </table>
      </TableWrap>
    </>
  );
}

export function VaultLogins() {
  const [logins, setLogins] = useState<VaultLogin[]>();
  const [codes, setCodes] = useState<Record<string, string>>({});
  const pager = usePager();
  const load = useAction();
  const totp = useAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload on the query and the page only (run and setNext are stable)
  useEffect(() => {
    void load.run(async () => {
      const r = await api.listLogins({ pageSize: PAGE, ...(pager.current ? { pageToken: pager.current } : {}) });
      setLogins(r.logins);
      pager.setNext(r.nextPageToken);
    });
  }, [pager.current]);
  return (
    <>
      <PageTitle>Vault logins</PageTitle>
      <p>Secrets are never shown here. A TOTP code is generated on demand and audited.</p>
      {load.error && <Notice kind="error">{load.error}</Notice>}
      {totp.error && <Notice kind="error">{totp.error}</Notice>}
      <TableWrap label="Vault logins">
        <table>
          <caption className="sr-only">Vault logins</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Account</th>
              <th scope="col">Password</th>
              <th scope="col">TOTP</th>
              <th scope="col">Session</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {(logins ?? []).map((l) => {
              const cfg = l.loginConfiguration;
              const hasTotp = cfg.twoFactorAuthConfiguration?.hasTotpSecret === true;
              return (
                <tr key={l.id}>
                  <td>{l.name}</td>
                  <td>{cfg.username ?? cfg.email ?? cfg.phone ?? '—'}</td>
                  <td>{cfg.hasPassword ? 'stored' : 'none'}</td>
                  <td>
                    {!hasTotp ? (
                      'none'
                    ) : codes[l.id] ? (
                      <code data-testid="totp-code">{codes[l.id]}</code>
                    ) : (
                      <button
                        type="button"
                        className="secondary small"
                        aria-label={`Show TOTP code for ${l.name}`}
                        onClick={() =>
                          void totp.run(async () => {
                            const r = await api.loginTotp(l.id);
                            setCodes((c) => ({ ...c, [l.id]: r.code }));
                          })
                        }
                      >
                        Show code
                      </button>
                    )}
                  </td>
                  <td>{l.hasSession ? 'present' : 'none'}</td>
                  <td>
                    <RelativeTime value={l.updatedAt} />
                  </td>
                </tr>
              );
            })}
            {logins && logins.length === 0 && (
              <tr>
                <td colSpan={6}>No logins.</td>
              </tr>
            )}
          </tbody>
        </table>
      </TableWrap>
      {pager.controls}
    </>
  );
}

export function AuditLog() {
  const [filters, setFilters] = useState({ action: '', actor: '', since: '' });
  const [applied, setApplied] = useState(filters);
  const [events, setEvents] = useState<AuditEvent[]>();
  const pager = usePager();
  const load = useAction();
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload on the query and the page only (run and setNext are stable)
  useEffect(() => {
    void load.run(async () => {
      const r = await api.auditEvents({
        ...(applied.action ? { action: applied.action.trim() } : {}),
        ...(applied.actor ? { actor: applied.actor.trim() } : {}),
        ...(applied.since ? { since: new Date(applied.since).toISOString() } : {}),
        pageSize: PAGE,
        ...(pager.current ? { pageToken: pager.current } : {}),
      });
      setEvents(r.events);
      pager.setNext(r.nextPageToken);
    });
  }, [applied, pager.current]);
  const set = (k: keyof typeof filters) => (v: string) => setFilters((f) => ({ ...f, [k]: v }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    pager.reset();
    setApplied(filters);
  };
  return (
    <>
      <PageTitle>Audit log</PageTitle>
      <form onSubmit={submit} className="row filters" aria-label="Filter the audit log">
        <Field label="Action" name="action" value={filters.action} onChange={set('action')} maxLength={128} hint="e.g. session.login" />
        <Field label="Actor id" name="actor" value={filters.actor} onChange={set('actor')} maxLength={128} />
        <Field label="Since" name="since" type="datetime-local" value={filters.since} onChange={set('since')} />
        <button type="submit" className="secondary">
          Filter
        </button>
      </form>
      {load.error && <Notice kind="error">{load.error}</Notice>}
      <TableWrap label="Audit events">
        <table>
          <caption className="sr-only">Audit events</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Action</th>
              <th scope="col">Outcome</th>
              <th scope="col">Actor</th>
              <th scope="col">Target</th>
              <th scope="col">Address</th>
            </tr>
          </thead>
          <tbody>
            {(events ?? []).map((e) => (
              <tr key={e.id}>
                <td>
                  <RelativeTime value={e.createdAt} />
                </td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{e.outcome}</td>
                <td>
                  {e.actorType} {e.actorId ? <code>{e.actorId.slice(0, 12)}</code> : null}
                </td>
                <td>{e.targetType ? `${e.targetType} ${e.targetId?.slice(0, 12) ?? ''}` : '—'}</td>
                <td>{e.ip ?? '—'}</td>
              </tr>
            ))}
            {events && events.length === 0 && (
              <tr>
                <td colSpan={6}>No events match.</td>
              </tr>
            )}
          </tbody>
        </table>
      </TableWrap>
      {pager.controls}
    </>
  );
}
