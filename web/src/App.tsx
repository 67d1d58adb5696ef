import type { ReactNode } from 'react';
import { useBranding } from './branding';
import { ApiKeys, Profile, Security, Sessions } from './pages/Account';
import { AuditLog, IdentityProviders, NewUser, OrganizationPage, UserDetail, Users, VaultLogins } from './pages/Admin';
import { ResetPassword, VerifyEmail } from './pages/Public';
import { SignIn } from './pages/SignIn';
import { Link, Redirect, useLocation } from './router';
import { isAdmin, useSession } from './session';
import { Notice } from './ui';

const ACCOUNT_NAV = [
  ['/account', 'Profile'],
  ['/account/security', 'Security'],
  ['/account/sessions', 'Sessions'],
  ['/account/api-keys', 'API keys'],
] as const;
const ADMIN_NAV = [
  ['/admin/users', 'Users'],
  ['/admin/organization', 'Organization'],
  ['/admin/api-keys', 'API keys'],
  ['/admin/identity-providers', 'Identity providers'],
  ['/admin/vault', 'Vault logins'],
  ['/admin/audit', 'Audit log'],
] as const;

function Shell({ children }: { children: ReactNode }) {
  const { state, signOut } = useSession();
  const { path } = useLocation();
  const branding = useBranding();
  if (state.status !== 'signed-in') return null;
  const admin = isAdmin(state.user);
  const link = ([href, label]: readonly [string, string]) => (
    <li key={href}>
      <Link href={href} aria-current={path === href ? 'page' : undefined}>
        {label}
      </Link>
    </li>
  );
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">{branding?.displayName ?? 'Portcullis'}</span>
        <span className="who">
          {state.user.userName}
          <button type="button" className="secondary small" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <div className="layout">
        <nav aria-label="Main" className="side">
          <h2>Account</h2>
          <ul>{ACCOUNT_NAV.map(link)}</ul>
          {admin && (
            <>
              <h2>Administration</h2>
              <ul>{ADMIN_NAV.map(link)}</ul>
            </>
          )}
        </nav>
        <main id="main" className="content">
          {children}
        </main>
      </div>
    </div>
  );
}

function SignedIn({ admin, children }: { admin?: boolean; children: ReactNode }) {
  const { state } = useSession();
  const { path, search } = useLocation();
  if (state.status === 'loading') return <p className="loading">Loading…</p>;
  if (state.status === 'anonymous' || state.restriction) {
    const back = encodeURIComponent(path + (search.size ? `?${search}` : ''));
    return <Redirect to={`/?returnTo=${back}`} />;
  }
  if (admin && !isAdmin(state.user)) {
    return (
      <Shell>
        <Notice kind="error">This page is for administrators.</Notice>
      </Shell>
    );
  }
  return <Shell>{children}</Shell>;
}

export function App() {
  const { path } = useLocation();
  const { state } = useSession();
  if (path === '/verify-email') return <VerifyEmail />;
  if (path === '/reset-password') return <ResetPassword />;
  if (path === '/') return state.status === 'loading' ? <p className="loading">Loading…</p> : <SignIn />;
  if (path === '/account') return <SignedIn>{<Profile />}</SignedIn>;
  if (path === '/account/security') return <SignedIn>{<Security />}</SignedIn>;
  if (path === '/account/sessions') return <SignedIn>{<Sessions />}</SignedIn>;
  if (path === '/account/api-keys') return <SignedIn>{<ApiKeys own />}</SignedIn>;
  if (path === '/admin') return <Redirect to="/admin/users" />;
  if (path === '/admin/users') return <SignedIn admin>{<Users />}</SignedIn>;
  if (path === '/admin/users/new') return <SignedIn admin>{<NewUser />}</SignedIn>;
  const userMatch = /^\/admin\/users\/([^/]+)$/.exec(path);
  if (userMatch?.[1]) return <SignedIn admin>{<UserDetail key={userMatch[1]} id={decodeURIComponent(userMatch[1])} />}</SignedIn>;
  if (path === '/admin/organization') return <SignedIn admin>{<OrganizationPage />}</SignedIn>;
  if (path === '/admin/api-keys') return <SignedIn admin>{<ApiKeys own={false} />}</SignedIn>;
  if (path === '/admin/identity-providers') return <SignedIn admin>{<IdentityProviders />}</SignedIn>;
  if (path === '/admin/vault') return <SignedIn admin>{<VaultLogins />}</SignedIn>;
  if (path === '/admin/audit') return <SignedIn admin>{<AuditLog />}</SignedIn>;
  return (
    <main className="card narrow" id="main">
      <h1>Page not found</h1>
      <p>
        <Link href="/">Go to the start page</Link>
      </p>
    </main>
  );
}
