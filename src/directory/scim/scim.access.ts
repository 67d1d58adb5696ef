import type { RequestContext } from '../../auth/index.js';
import { assertThat } from '../../errors/index.js';

/**
 * The caller's organization, which every SCIM operation acts inside: the caller must be
 * authenticated (`auth.unauthenticated`) and hold `users:write` (`auth.forbidden`).
 */
export function organizationOf(ctx: RequestContext): string {
  const p = ctx.principal;
  assertThat(p, 'auth.unauthenticated');
  assertThat(p.scopes.has('users:write'), 'auth.forbidden', 'missing scope users:write');
  return p.organizationId;
}

/** Runs a request's writes in one transaction that the SCIM, users and audit repos join (`storage.transaction`). */
export type Transaction = <T>(fn: () => Promise<T>) => Promise<T>;
