import type { FastifyPluginAsync } from 'fastify';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { MasterKeyring } from '../crypto/index.js';
import type { Logger } from '../log/index.js';
import type { SharedState } from '../state/index.js';
import type { Storage } from '../storage/index.js';
import type { VaultInbox } from './inbox/inbox.server.js';
import { createVaultRepo } from './vault.repo.js';
import { vaultRoutes } from './vault.routes.js';
import { createVaultService } from './vault.service.js';

export type { VaultInbox } from './inbox/inbox.server.js';
export { vaultSealedColumns } from './vault.sealed.js';
export { createVaultService, presentLogin, type VaultService } from './vault.service.js';

export interface VaultDomainDeps {
  storage: Pick<Storage, 'executor' | 'transaction'>;
  config: Config;
  keyring: MasterKeyring;
  audit: AuditService;
  state: SharedState;
  log: Logger;
}

/**
 * The vault domain: third-party logins with sealed secrets, TOTP codes, captured emailed codes and
 * persisted browser sessions; with `PORTCULLIS_SMTP_INBOUND_PORT`, the inbound SMTP listener too
 * (loaded only then: the SMTP server and MIME parser weigh ~40 MB). `listen` starts the listener
 * beside the HTTP server, never for CLI commands.
 */
export async function createVaultDomain(deps: VaultDomainDeps) {
  const { config } = deps;
  const vault = createVaultService({
    repo: createVaultRepo(deps.storage.executor),
    transaction: deps.storage.transaction,
    keyring: deps.keyring,
    audit: deps.audit,
    state: deps.state,
    emailCodeTtlSeconds: config.vaultEmailCodeTtlSeconds,
    revealPerMinute: config.vaultRevealPerMinute,
  });
  const inbox: VaultInbox | undefined =
    config.smtpInboundPort === undefined
      ? undefined
      : (await import('./inbox/inbox.server.js')).createVaultInbox({
          acceptsRecipient: vault.acceptsRecipient,
          deliverEmail: vault.deliverEmail,
          log: deps.log,
          maxMessageBytes: config.smtpInboundMaxBytes,
        });
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(vaultRoutes, { services: { vault } });
  };
  return {
    vault,
    inbox,
    routes,
    async listen(): Promise<void> {
      if (inbox && config.smtpInboundPort !== undefined) await inbox.listen(config.smtpInboundPort, config.host);
    },
    async close(): Promise<void> {
      await inbox?.close();
    },
  };
}
