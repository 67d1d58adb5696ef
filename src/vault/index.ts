import type { FastifyPluginAsync } from 'fastify';
import type { AuditService } from '../audit/index.js';
import type { Config } from '../config/index.js';
import type { MasterKeyring } from '../crypto/index.js';
import type { Logger } from '../log/index.js';
import type { SharedState } from '../state/index.js';
import type { Storage } from '../storage/index.js';
import type { VaultInbox } from './inbox/inbox.server.js';
import { createLiveSessions } from './runner/live.js';
import { createRunsRepo } from './runner/runner.repo.js';
import { runnerRoutes } from './runner/runner.routes.js';
import { createRunnerService } from './runner/runner.service.js';
import { createVaultRepo } from './vault.repo.js';
import { vaultRoutes } from './vault.routes.js';
import { createVaultService } from './vault.service.js';

export type { VaultInbox } from './inbox/inbox.server.js';
export { PROCESS_MARKER as RUNNER_PROCESS_MARKER } from './runner/browser.js';
export type { RunnerService } from './runner/runner.service.js';
export { vaultSealedColumns } from './vault.sealed.js';
export { createVaultService, presentLogin, type VaultService } from './vault.service.js';

export interface VaultDomainDeps {
  storage: Pick<Storage, 'executor' | 'transaction' | 'dialect'>;
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
  const runner = createRunnerService({
    repo: createRunsRepo(deps.storage.executor),
    vault: vault.runnerAccess,
    audit: deps.audit,
    state: deps.state,
    log: deps.log,
    config,
    dialect: deps.storage.dialect,
  });
  const live = createLiveSessions({ vault: vault.runnerAccess, runner, audit: deps.audit, log: deps.log, config });
  const routes: FastifyPluginAsync = async (app) => {
    await app.register(vaultRoutes, { services: { vault } });
    await app.register(runnerRoutes, { services: { vault, runner, live } });
  };
  return {
    vault,
    inbox,
    runner,
    live,
    routes,
    /** Beside the HTTP server only (never for CLI commands): the inbound SMTP listener, and the runner's recovery of runs a stopped server left. */
    async listen(): Promise<void> {
      await runner.start();
      if (inbox && config.smtpInboundPort !== undefined) await inbox.listen(config.smtpInboundPort, config.host);
    },
    async close(): Promise<void> {
      await live.closeAll();
      await runner.close();
      await inbox?.close();
    },
  };
}
