import { authorize, inOrganization, type RequestContext } from '../../auth/index.js';

/**
 * The caller's organization, which every SCIM operation acts inside, once the policy allows
 * `directory.provision` there (an administrator's session or key holding `users:write`). Each
 * change to a user is then asked again by the users service, against that user's rank.
 */
export function organizationOf(ctx: RequestContext): string {
  return authorize(ctx.principal, 'directory.provision', inOrganization(ctx.principal?.organizationId ?? '')).organizationId;
}

/** Runs a request's writes in one transaction that the SCIM, users and audit repos join (`storage.transaction`). */
export type Transaction = <T>(fn: () => Promise<T>) => Promise<T>;
