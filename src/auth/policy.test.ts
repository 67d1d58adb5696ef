import { describe, expect, it } from 'vitest';
import { type Action, can, SCOPE_OF, type Target } from './policy.js';
import type { Principal } from './principal.js';
import { defaultScopes, grantableScopes, ROLES, type Role, type Scope } from './scopes.js';

/**
 * The policy, table-driven: every (actor rank × target rank × action) pair, as a session, as an
 * API key holding the action's scope, and as a key lacking it. The expected answers are written out
 * below as tables, independently of how `can` computes them.
 */

const ORG = 'org-a';
const OTHER_ORG = 'org-b';
const ROLES_OF: Record<Role, string[]> = { superadmin: ['superadmin', 'owner'], owner: ['owner'], admin: ['admin'], member: ['member'] };

type Credential = 'session' | 'key with scope' | 'key without scope';
const CREDENTIALS: Credential[] = ['session', 'key with scope', 'key without scope'];

/** A session holds its role's default scopes; a key at most what its owner's role may ever hold. */
function actor(role: Role, credential: Credential, action: Action, organizationId = ORG): Principal {
  const scopes = new Set<Scope>(credential === 'session' ? defaultScopes(ROLES_OF[role]) : grantableScopes(ROLES_OF[role]));
  const needed = SCOPE_OF[action];
  if (credential === 'key without scope' && needed) scopes.delete(needed);
  return {
    kind: credential === 'session' ? 'user' : 'api_key',
    userId: `actor-${role}`,
    organizationId,
    roles: ROLES_OF[role],
    scopes,
    isSuperadmin: role === 'superadmin',
    via: credential === 'session' ? 'bearer' : 'api_key',
    ...(credential === 'session' ? { sessionId: 's' } : { apiKeyId: 1 }),
  };
}

const user = (role: Role, organizationId = ORG, extra: Partial<Extract<Target, { kind: 'user' }>> = {}): Target => ({
  kind: 'user',
  id: `target-${role}`,
  organizationId,
  roles: ROLES_OF[role],
  ...extra,
});

// Who may administer whom (rows: actor, columns: target member, admin, owner, superadmin), same organization.
const OUTRANKS: Record<Role, [boolean, boolean, boolean, boolean]> = {
  member: [false, false, false, false],
  admin: [true, false, false, false],
  owner: [true, true, true, false],
  superadmin: [true, true, true, true],
};
const TARGETS: Role[] = ['member', 'admin', 'owner', 'superadmin'];

const ACCOUNT_ACTIONS: Action[] = [
  'user.update',
  'user.change_email',
  'user.set_password',
  'user.change_roles',
  'user.change_state',
  'user.delete',
  'user.reset_mfa',
  'api_key.revoke',
];

describe('policy: administering another account of the same organization', () => {
  for (const action of ACCOUNT_ACTIONS) {
    for (const role of ROLES) {
      for (const credential of CREDENTIALS) {
        it(`${action}: ${role} (${credential}) on member/admin/owner/superadmin`, () => {
          const got = TARGETS.map((t) => can(actor(role, credential, action), action, user(t)).allow);
          const expected = OUTRANKS[role].map((ok) => ok && credential !== 'key without scope');
          expect(got).toEqual(expected);
        });
      }
    }
  }

  it('owners act on owners of their own organization only; nobody acts across organizations but a superadmin', () => {
    const owner = actor('owner', 'session', 'user.set_password');
    expect(can(owner, 'user.set_password', user('owner', OTHER_ORG))).toMatchObject({ allow: false, code: 'resource.not_found' });
    expect(can(actor('admin', 'session', 'user.update'), 'user.update', user('member', OTHER_ORG))).toMatchObject({
      allow: false,
      code: 'resource.not_found',
    });
    const root = actor('superadmin', 'session', 'user.set_password');
    expect(can(root, 'user.set_password', user('owner', OTHER_ORG)).allow).toBe(true);
    expect(can(root, 'user.set_password', user('superadmin', OTHER_ORG)).allow).toBe(true);
  });

  it('refuses administrative actions on oneself: self-service goes through /v1/auth/*', () => {
    for (const action of ACCOUNT_ACTIONS.filter((a) => a !== 'api_key.revoke')) {
      const self = actor('owner', 'session', action);
      expect(can(self, action, { kind: 'user', id: self.userId, organizationId: ORG, roles: ['owner'] }).allow).toBe(false);
    }
  });

  it('the last owner cannot be demoted, suspended or deleted, even by a superadmin', () => {
    for (const action of ['user.change_roles', 'user.change_state', 'user.delete'] as const) {
      const d = can(actor('superadmin', 'session', action), action, user('owner', ORG, { isLastOwner: true }));
      expect(d).toMatchObject({ allow: false, code: 'user.last_owner' });
    }
    expect(can(actor('superadmin', 'session', 'user.update'), 'user.update', user('owner', ORG, { isLastOwner: true })).allow).toBe(true);
  });
});

describe('policy: granting ranks', () => {
  // Rows: actor; columns: granting member, admin, owner, superadmin.
  const MAY_GRANT: Record<Role, [boolean, boolean, boolean, boolean]> = {
    member: [false, false, false, false],
    admin: [true, true, false, false],
    owner: [true, true, true, false],
    superadmin: [true, true, true, true],
  };
  for (const role of ROLES) {
    it(`${role} creates users of each rank (nobody grants above their own)`, () => {
      const got = TARGETS.map(
        (grant) =>
          can(actor(role, 'session', 'user.create'), 'user.create', {
            kind: 'user',
            id: '',
            organizationId: ORG,
            roles: [],
            grantRoles: ROLES_OF[grant],
          }).allow,
      );
      expect(got).toEqual(MAY_GRANT[role]);
    });
    it(`${role} promotes a member to each rank`, () => {
      const got = TARGETS.map(
        (grant) =>
          can(actor(role, 'session', 'user.change_roles'), 'user.change_roles', user('member', ORG, { grantRoles: ROLES_OF[grant] })).allow,
      );
      expect(got).toEqual(MAY_GRANT[role].map((ok) => ok && role !== 'member'));
    });
  }
});

describe('policy: the signed-in user’s own account', () => {
  const SELF: { action: Action; keyAllowed: boolean }[] = [
    { action: 'self.update_profile', keyAllowed: true },
    { action: 'self.change_email', keyAllowed: false },
    { action: 'self.change_password', keyAllowed: false },
    { action: 'self.manage_mfa', keyAllowed: false },
    { action: 'self.manage_passkeys', keyAllowed: false },
    { action: 'self.manage_sessions', keyAllowed: false },
  ];
  for (const { action, keyAllowed } of SELF) {
    for (const role of ROLES) {
      it(`${action}: ${role} as a session, a key with the scope, a key without it`, () => {
        const got = CREDENTIALS.map((credential) => {
          const p = actor(role, credential, action);
          return can(p, action, { kind: 'user', id: p.userId, organizationId: ORG, roles: p.roles }).allow;
        });
        const needsScope = SCOPE_OF[action] !== null;
        expect(got).toEqual([true, keyAllowed, keyAllowed && !needsScope]);
      });
    }
  }
  it('is never another account', () => {
    expect(can(actor('superadmin', 'session', 'self.change_email'), 'self.change_email', user('member')).allow).toBe(false);
  });
});

describe('policy: organizations and their resources', () => {
  // [member, admin, owner, superadmin] in their own organization: as a session, and as a key holding the scope.
  const TABLE: { action: Action; session: boolean[]; key: boolean[] }[] = [
    { action: 'organization.read', session: [true, true, true, true], key: [true, true, true, true] },
    { action: 'organization.update', session: [false, true, true, true], key: [false, true, true, true] },
    { action: 'organization.create', session: [false, false, false, true], key: [false, false, false, true] },
    { action: 'idp.read', session: [true, true, true, true], key: [true, true, true, true] },
    { action: 'idp.write', session: [false, true, true, true], key: [false, true, true, true] },
    { action: 'audit.read', session: [false, true, true, true], key: [false, true, true, true] },
    { action: 'oauth_client.read', session: [false, true, true, true], key: [false, true, true, true] },
    { action: 'oauth_client.write', session: [false, true, true, true], key: [false, true, true, true] },
    { action: 'user.read', session: [false, true, true, true], key: [false, true, true, true] },
    { action: 'user.set_groups', session: [false, true, true, true], key: [false, true, true, true] },
    { action: 'vault.read', session: [false, true, true, true], key: [false, true, true, true] },
    { action: 'vault.write', session: [false, true, true, true], key: [false, true, true, true] },
    // Revealing a secret is never a default: only a key that names the scope.
    { action: 'vault.reveal', session: [false, false, false, false], key: [false, true, true, true] },
    { action: 'vault.authenticate', session: [false, true, true, true], key: [false, true, true, true] },
    // A live browser session is a signed-in credential: like a reveal, only a key that names logins:reveal.
    { action: 'vault.browse', session: [false, false, false, false], key: [false, true, true, true] },
    { action: 'directory.provision', session: [false, true, true, true], key: [false, true, true, true] },
    // Webhook endpoints (their URLs and secrets decide where the organization's events go): administrators only.
    { action: 'webhook.read', session: [false, true, true, true], key: [false, true, true, true] },
    { action: 'webhook.write', session: [false, true, true, true], key: [false, true, true, true] },
    // Issue 20: bulk import and export are for administrators, and a key needs the scope by name.
    { action: 'user.import', session: [false, true, true, true], key: [false, true, true, true] },
    { action: 'user.export', session: [false, true, true, true], key: [false, true, true, true] },
  ];
  const ranks: Role[] = ['member', 'admin', 'owner', 'superadmin'];
  const targetOf = (action: Action, organizationId = ORG): Target =>
    action.startsWith('organization.') ? { kind: 'organization', id: organizationId } : { kind: 'resource', organizationId };

  for (const { action, session, key } of TABLE) {
    it(`${action}: by rank as a session, a key with ${SCOPE_OF[action] ?? 'no scope'}, and a key without it`, () => {
      expect(ranks.map((r) => can(actor(r, 'session', action), action, targetOf(action)).allow)).toEqual(session);
      expect(ranks.map((r) => can(actor(r, 'key with scope', action), action, targetOf(action)).allow)).toEqual(key);
      const withoutScope = ranks.map((r) => can(actor(r, 'key without scope', action), action, targetOf(action)).allow);
      expect(withoutScope).toEqual(SCOPE_OF[action] ? [false, false, false, false] : key);
    });
  }

  it('another organization’s resources do not exist, except for a superadmin', () => {
    for (const { action } of TABLE.filter((r) => r.action !== 'organization.create')) {
      const d = can(actor('owner', 'session', action), action, targetOf(action, OTHER_ORG));
      expect(d, action).toMatchObject({ allow: false, code: 'resource.not_found' });
    }
  });

  it('a superadmin key without organizations:write creates no organization', () => {
    const key = actor('superadmin', 'key without scope', 'organization.create');
    expect(can(key, 'organization.create', { kind: 'organization', id: 'new' })).toMatchObject({ allow: false, code: 'auth.forbidden' });
  });

  it('refuses everything without a principal', () => {
    expect(can(undefined, 'user.read', user('member'))).toMatchObject({ allow: false, code: 'auth.unauthenticated' });
  });
});
