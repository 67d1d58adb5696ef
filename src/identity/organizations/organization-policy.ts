export interface OrganizationPolicy {
  /** Minimum password length (8; NIST asks 15 where the password is the only factor). */
  passwordMinLength: number;
  /** Members without MFA get a session that can only enroll. */
  requireMfa: boolean;
  /** A user's first sign-in answers `requireResetPassword: true`. */
  requireResetOnFirstLogin: boolean;
  /** Days after which a password must be changed; 0 turns rotation off. */
  passwordRotationDays: number;
  /** An administrator-set password (seed 003, SCIM) must be changed at next sign-in unless the request says otherwise. */
  mustChangePasswordOnAdminSet: boolean;
}

export const DEFAULT_POLICY: OrganizationPolicy = {
  passwordMinLength: 8,
  requireMfa: false,
  requireResetOnFirstLogin: false,
  passwordRotationDays: 0,
  mustChangePasswordOnAdminSet: false,
};

/** An organization, its policy complete (what was never set has its default). */
export interface Organization {
  id: string;
  name: string;
  policy: OrganizationPolicy;
  createdAt: string;
  updatedAt: string;
}

/** The stored policy with the defaults filled in. */
export const withDefaults = (policy: Partial<OrganizationPolicy>): OrganizationPolicy => ({ ...DEFAULT_POLICY, ...policy });
