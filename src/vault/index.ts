export type { VaultInbox } from './inbox/inbox.server.js';
export { vaultRoutes } from './vault.routes.js';
export { vaultSealedColumns } from './vault.sealed.js';
export { createVaultService, presentLogin, type VaultService } from './vault.service.js';

/** The inbound SMTP listener, loaded only when configured (the SMTP server and MIME parser weigh ~40 MB). */
export const loadVaultInbox = async () => (await import('./inbox/inbox.server.js')).createVaultInbox;
