import { defaultScopes, permissionsFromScopes } from '../../auth/index.js';
import type { ApiKey } from '../api-keys/api-keys.repo.js';
import type { UserSetting } from './settings.repo.js';
import type { User } from './users.repo.js';

/** seed 001's `apiKeys` entry; the secret appears only as a masked prefix. */
export function presentApiKey(key: ApiKey, ownerRoles: readonly string[] = []) {
  const scopes = key.scopes ?? [...defaultScopes(ownerRoles)];
  return {
    id: key.id,
    name: key.name,
    key: key.publicKey,
    clientSecret: `${key.secretPrefix}${'*'.repeat(12)}`,
    createdDate: key.createdAt,
    expireDate: key.expiresAt,
    ownerId: key.ownerId,
    revoked: key.revokedAt !== null,
    permissions: permissionsFromScopes(scopes),
    description: key.description,
    scopes,
    lastUsedDate: key.lastUsedAt,
  };
}

export interface PresentUserExtras {
  apiKeys?: ApiKey[];
  settings?: UserSetting[];
  /** MFA and other domains add fields here (e.g. `recoveryCodesRemaining`). */
  extra?: Record<string, unknown>;
}

/** The user resource: the union of seed 001's and seed 002's user, plus directory fields. */
export function presentUser(user: User, extras: PresentUserExtras = {}) {
  return {
    id: user.id,
    name: `users/${user.id}`,
    organizationId: user.organizationId,
    userName: user.userName,
    email: user.email,
    emailVerified: user.emailVerified,
    phoneNumber: user.phone,
    phone: user.phone,
    title: user.title,
    firstName: user.firstName,
    lastName: user.lastName,
    department: user.department,
    birthDate: user.birthDate,
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    lastDismissMessages: user.lastDismissMessages,
    lastLogIn: user.lastLoginAt,
    rank: user.rank,
    image: user.image,
    address: user.address,
    postalCode: user.postalCode,
    region: user.region,
    city: user.city,
    country: user.country,
    countryCode: user.countryCode,
    mobile: user.mobile,
    notes: user.notes,
    customerId: user.customerId,
    roles: user.roles,
    state: user.state,
    userType: user.userType,
    mfaEnabled: user.mfaEnabled,
    requireResetPassword: user.requireResetPassword,
    groups: user.groups,
    profile: {
      lastLoginTime: user.lastLoginAt,
      lastChangePasswordTime: user.passwordChangedAt,
      source: user.profileSource,
    },
    workloadIdentityConfig: user.workloadIdentityConfig,
    adSid: user.adSid,
    externalId: user.externalId,
    ...(extras.apiKeys ? { apiKeys: extras.apiKeys.map((k) => presentApiKey(k, user.roles)) } : {}),
    ...(extras.settings ? { settings: extras.settings } : {}),
    ...(extras.extra ?? {}),
  };
}
export type UserResource = ReturnType<typeof presentUser>;
