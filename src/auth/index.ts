export {
  ACTIONS,
  type Action,
  authorize,
  can,
  type Decision,
  inOrganization,
  outranks,
  SCOPE_OF,
  type Target,
  type UserTarget,
  userTarget,
} from './policy.js';
export type { Principal, RequestContext, Restriction } from './principal.js';
export * from './scopes.js';
