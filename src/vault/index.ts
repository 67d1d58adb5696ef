export type { VaultInbox } from './inbox/inbox.server.js';
export { vaultRoutes } from './vault.routes.js';
export { vaultSealedColumns } from './vault.sealed.js';
export { createVaultService, presentLogin, type VaultService } from './vault.service.js';
