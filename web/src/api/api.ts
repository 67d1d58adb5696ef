/** The API calls the console makes, typed after the server's route schemas (GET /openapi.json). */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/browser';
import { request, scheduleRefresh } from './client';

export interface ApiKey {
  id: number;
  name: string;
  key: string;
  clientSecret: string;
  createdDate: string;
  expireDate: string | null;
  ownerId: string;
  revoked: boolean;
  permissions: number;
  description: string | null;
  scopes: string[];
  lastUsedDate: string | null;
}

export interface User {
  id: string;
  name: string;
  organizationId: string;
  userName: string;
  email: string | null;
  emailVerified: boolean;
  phone: string | null;
  title: string | null;
  firstName: string | null;
  lastName: string | null;
  department: string | null;
  createdAt: string;
  updatedAt: string;
  lastLogIn: string | null;
  roles: string[];
  state: string;
  userType: string;
  mfaEnabled: boolean;
  requireResetPassword: boolean;
  groups: string[];
  apiKeys?: ApiKey[];
  recoveryCodesRemaining?: number;
  tempOtpSecret?: string;
  tempRecoveryCodes?: string[];
  otpAuthUri?: string;
  qrCodeDataUrl?: string;
}

export interface Passkey {
  id: string;
  name: string;
  deviceType: string;
  backedUp: boolean;
  transports: string[];
  createdAt: string;
  lastUsedAt: string | null;
  cloneSuspected: boolean;
}

export interface Branding {
  organizationId: string;
  displayName: string | null;
  logoUrl: string | null;
  primaryColor: string | null;
}

export interface OwnSession {
  id: string;
  method: string;
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  current: boolean;
}

export interface LoginResult {
  success: boolean;
  message: string;
  expiresIn?: number;
  mfaTempToken?: string;
  requireResetPassword?: boolean;
  requireMfaEnrollment?: boolean;
  user?: User;
}

export interface OrganizationPolicy {
  passwordMinLength: number;
  requireMfa: boolean;
  requireResetOnFirstLogin: boolean;
  passwordRotationDays: number;
  mustChangePasswordOnAdminSet: boolean;
}
export interface Organization {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  policy: OrganizationPolicy;
}

export interface AuditEvent {
  id: number;
  organizationId: string | null;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

export interface VaultLogin {
  id: string;
  name: string;
  authenticationUrl: string;
  homeUrl: string;
  loginConfiguration: {
    username: string | null;
    email: string | null;
    phone: string | null;
    twoFactorAuthConfiguration: { method: string | null; hasTotpSecret: boolean } | null;
    hasPassword: boolean;
  };
  hasSession: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface IdentityProvider {
  id: string;
  name: string;
  title?: string;
  type?: string;
  [key: string]: unknown;
}

const login = async (body: Record<string, unknown>): Promise<LoginResult> => {
  const result = await request<LoginResult>('POST', '/v1/auth/login', { body: { ...body, web: true }, noRefresh: true });
  if (result.expiresIn) scheduleRefresh(result.expiresIn);
  return result;
};

export const api = {
  signIn: (identifier: string, password: string) =>
    login(identifier.includes('@') ? { email: identifier, password } : { username: identifier, password }),
  signInMfa: (mfaTempToken: string, code: string) =>
    login(/^\d{6,8}$/.test(code) ? { mfaTempToken, otpCode: code } : { mfaTempToken, recoveryCode: code }),
  me: () => request<{ user: User }>('GET', '/v1/auth/user').then((r) => r.user),
  updateMe: (body: Record<string, unknown>) => request<{ user: User }>('POST', '/v1/auth/user', { body }).then((r) => r.user),
  changePassword: async (currentPassword: string, newPassword: string) => {
    const r = await request<LoginResult>('POST', '/v1/auth/password', { body: { currentPassword, newPassword } });
    if (r.expiresIn) scheduleRefresh(r.expiresIn);
    return r;
  },
  requestReset: (identifier: string) =>
    request<{ message: string }>('POST', '/v1/auth/password/reset/request', {
      body: identifier.includes('@') ? { email: identifier } : { username: identifier },
      noRefresh: true,
    }),
  resetPassword: (token: string, newPassword: string) =>
    request<{ message: string }>('POST', '/v1/auth/password/reset', { body: { token, newPassword }, noRefresh: true }),
  verifyEmail: (code: string) => request<{ message: string }>('POST', '/v1/auth/email/verify', { body: { code }, noRefresh: true }),
  requestVerification: () => request<{ message: string; sent: boolean }>('POST', '/v1/auth/email/verify/request', { body: {} }),

  listSessions: () => request<{ sessions: OwnSession[] }>('GET', '/v1/auth/sessions').then((r) => r.sessions),
  revokeSession: (id: string) => request<{ success: boolean }>('DELETE', `/v1/auth/sessions/${encodeURIComponent(id)}`),
  listPasskeys: () => request<{ passkeys: Passkey[] }>('GET', '/v1/auth/passkeys').then((r) => r.passkeys),
  passkeyRegistrationOptions: () =>
    request<{ options: PublicKeyCredentialCreationOptionsJSON }>('POST', '/v1/auth/passkeys/registration-options', { body: {} }).then(
      (r) => r.options,
    ),
  registerPasskey: (name: string, response: RegistrationResponseJSON) =>
    request<Passkey>('POST', '/v1/auth/passkeys', { body: { ...(name ? { name } : {}), response } }),
  renamePasskey: (id: string, name: string) => request<Passkey>('PATCH', `/v1/auth/passkeys/${encodeURIComponent(id)}`, { body: { name } }),
  removePasskey: (id: string) => request<{ success: boolean }>('DELETE', `/v1/auth/passkeys/${encodeURIComponent(id)}`),
  passkeySignInOptions: (mfaTempToken?: string) =>
    request<{ flowId: string; options: PublicKeyCredentialRequestOptionsJSON }>('POST', '/v1/auth/passkeys/authentication-options', {
      body: mfaTempToken ? { mfaTempToken } : {},
      noRefresh: true,
    }),
  signInWithPasskey: async (flowId: string, response: AuthenticationResponseJSON, mfaTempToken?: string) => {
    const result = await request<LoginResult>('POST', '/v1/auth/passkeys/authentication', {
      body: { flowId, response, web: true, ...(mfaTempToken ? { mfaTempToken } : {}) },
      noRefresh: true,
    });
    if (result.expiresIn) scheduleRefresh(result.expiresIn);
    return result;
  },

  listUsers: (query: { userName?: string; email?: string; organizationId?: string; pageSize?: number; pageToken?: string }) =>
    request<{ users: User[]; nextPageToken: string }>('GET', '/v1/users', { query }),
  getUser: (id: string) => request<User>('GET', `/v1/users/${encodeURIComponent(id)}`),
  createUser: (body: Record<string, unknown>) => request<User>('POST', '/v1/users', { body }),
  updateUser: (id: string, body: Record<string, unknown>) => request<User>('PATCH', `/v1/users/${encodeURIComponent(id)}`, { body }),
  resetUserMfa: (id: string) => request<User>('POST', `/v1/users/${encodeURIComponent(id)}/mfa/reset`, { body: {} }),
  deleteUser: (id: string) => request<{ success: boolean }>('DELETE', `/v1/users/${encodeURIComponent(id)}`),
  /** An administrator sets a password: the HelloID door (seed 003), scope credentials:write. */
  setUserPassword: (id: string, userName: string, password: string, mustChangePassword: boolean) =>
    request<{ mustChangePassword: boolean }>('POST', `/api/v1/users/addUserCredentials/${encodeURIComponent(id)}`, {
      body: { userName, password, mustChangePassword },
    }),

  listOrganizations: () => request<{ organizations: Organization[] }>('GET', '/v1/organizations').then((r) => r.organizations),
  updateOrganization: (id: string, body: { name?: string; policy?: Partial<OrganizationPolicy> }) =>
    request<Organization>('PATCH', `/v1/organizations/${encodeURIComponent(id)}`, { body }),

  getBranding: (organizationId: string) => request<Branding>('GET', `/v1/branding/${encodeURIComponent(organizationId)}`),
  updateBranding: (organizationId: string, body: { displayName: string | null; logoUrl: string | null; primaryColor: string | null }) =>
    request<Branding>('PUT', `/v1/organizations/${encodeURIComponent(organizationId)}/branding`, { body }),

  listApiKeys: () => request<{ apiKeys: ApiKey[] }>('GET', '/v1/api-keys').then((r) => r.apiKeys),
  createApiKey: (body: { name: string; description?: string; scopes?: string[] }) => request<ApiKey>('POST', '/v1/api-keys', { body }),
  revokeApiKey: (id: number) => request<{ success: boolean }>('DELETE', `/v1/api-keys/${id}`),

  listIdps: () => request<{ identityProviders?: IdentityProvider[]; idps?: IdentityProvider[] }>('GET', '/v1/idps'),

  listLogins: (query: { pageSize?: number; pageToken?: string; name?: string }) =>
    request<{ logins: VaultLogin[]; nextPageToken: string }>('GET', '/logins', { query }),
  loginTotp: (id: string) =>
    request<{ code: string; period: number; expiresAt: string }>('POST', `/logins/${encodeURIComponent(id)}/totp`, { body: {} }),

  auditEvents: (query: { actor?: string; action?: string; since?: string; until?: string; pageSize?: number; pageToken?: string }) =>
    request<{ events: AuditEvent[]; nextPageToken: string }>('GET', '/v1/audit-events', { query }),
};
