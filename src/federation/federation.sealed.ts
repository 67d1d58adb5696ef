import { type MasterSealedColumn, sealLabel } from '../crypto/index.js';
import { createIdpsRepo } from './idps.repo.js';

/** Associated data of an identity provider's client secret. */
export const secretAad = (idpId: string): string => sealLabel('federation.idp_client_secret', idpId);
/** Associated data of a browser sign-in's PKCE code verifier. */
export const verifierAad = (stateHash: string): string => sealLabel('federation.auth_flow_verifier', stateHash);

/** What federation seals under the master key: registered for `keys rotate-master`. */
export const federationSealedColumns: readonly MasterSealedColumn[] = [
  {
    owner: 'federation',
    kind: 'master_key',
    table: 'identity_providers',
    column: 'client_secret_sealed',
    holds: 'identity-provider (OAuth2/OIDC) client secrets',
    labelOf: secretAad,
    rows: ({ db }) => createIdpsRepo(db).clientSecrets,
  },
  {
    owner: 'federation',
    kind: 'master_key',
    table: 'auth_flows',
    column: 'code_verifier_sealed',
    holds: 'PKCE verifiers of browser sign-ins in progress',
    labelOf: verifierAad,
    rows: ({ db }) => createIdpsRepo(db).flowVerifiers,
  },
];
