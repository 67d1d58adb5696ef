import { type App, buildApp } from '../app.js';
import type { Principal, RequestContext } from '../auth/index.js';
import { SCOPES } from '../auth/index.js';
import { loadConfig } from '../config/index.js';

/** Builds the app (without listening) so CLI commands use the same services as the API. */
export async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const config = loadConfig({ ...process.env, PORTCULLIS_LOG_LEVEL: process.env.PORTCULLIS_LOG_LEVEL ?? 'warn' });
  // The one-time bootstrap message and the logs go to stderr so that stdout stays machine-readable JSON.
  const app = await buildApp(config, { announce: (m) => process.stderr.write(`${m}\n`), logStream: process.stderr });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** The operator at the console acts as a superadmin in the given organization. */
export function operatorContext(organizationId: string, userId = 'cli'): RequestContext {
  const principal: Principal = {
    kind: 'user',
    userId,
    organizationId,
    roles: ['superadmin'],
    scopes: new Set(SCOPES),
    isSuperadmin: true,
    via: 'bearer',
  };
  return { principal, ip: 'cli', requestId: 'cli', userAgent: 'portcullis-cli', now: new Date() };
}
