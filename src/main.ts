import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config/index.js';

/** Loads config, builds the app, listens, and closes gracefully on signals. */
export async function startServer(env: Record<string, string | undefined> = process.env): Promise<void> {
  const config = loadConfig(env);
  const app = await buildApp(config);
  closeWithGrace({ delay: 10_000 }, async ({ err }) => {
    if (err) app.log.error({ err }, 'shutting down after error');
    await app.close();
  });
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await app.close();
    // Why: "EADDRINUSE" alone does not tell an operator which setting to change.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new ConfigError(
        `PORTCULLIS_PORT ${config.port} on PORTCULLIS_HOST ${config.host} ${code === 'EADDRINUSE' ? 'is already in use' : 'needs privileges'} (${code})`,
      );
    }
    throw err;
  }
}
