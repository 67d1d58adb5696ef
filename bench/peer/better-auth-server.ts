/**
 * The peer: Better Auth (latest), email/password with its default scrypt hashing, served by its
 * own Node adapter. SQLite through better-sqlite3 (the driver Portcullis uses), or PostgreSQL
 * through pg when BA_PG_URL is set (tables in schema BA_PG_SCHEMA). Signs up BA_EMAIL once, then
 * listens on PORT. Its rate limiter is turned off, as Portcullis's per-address ceiling is.
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import Database from 'better-sqlite3';
import pg from 'pg';

const port = Number(process.env.PORT ?? 0);
const email = process.env.BA_EMAIL ?? 'bench@example.test';
const password = process.env.BA_PASSWORD ?? 'correct horse battery staple';
const baseURL = `http://127.0.0.1:${port}`;

function database(): Database.Database | pg.Pool {
  const pgUrl = process.env.BA_PG_URL;
  if (pgUrl) {
    const schema = process.env.BA_PG_SCHEMA ?? 'better_auth';
    return new pg.Pool({ connectionString: pgUrl, max: 10, options: `-c search_path=${schema}` });
  }
  const sqlite = new Database(join(process.env.BA_DATA_DIR ?? '.', 'better-auth.db'));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  return sqlite;
}

const options = {
  baseURL,
  secret: process.env.BA_SECRET ?? 'bench-only-secret-0123456789abcdef0123456789abcdef',
  database: database(),
  emailAndPassword: { enabled: true },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  logger: { disabled: true },
};

const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
try {
  await auth.api.signUpEmail({ body: { email, password, name: 'Bench User' } });
} catch {
  // Already there (a restarted server on the same database).
}

const handler = toNodeHandler(auth);
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  void handler(req, res);
});
server.listen(port, '127.0.0.1');
