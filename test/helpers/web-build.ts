import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const entry of readdirSync(path)) max = Math.max(max, newest(join(path, entry)));
  return max;
}

/** Whether web/dist is missing or older than its sources. */
export function webBuildStale(): boolean {
  let built: number;
  try {
    built = statSync(join(WEB, 'dist', 'index.html')).mtimeMs;
  } catch {
    return true;
  }
  const sources = Math.max(newest(join(WEB, 'src')), newest(join(WEB, 'index.html')), newest(join(WEB, 'vite.config.ts')));
  return sources > built;
}

/**
 * vitest globalSetup: the console's tests serve web/dist, so a missing or stale build is made
 * once before any test file runs (about 3 s; nothing to do when it is current).
 */
export default async function setup(): Promise<void> {
  if (!webBuildStale()) return;
  const { build } = await import('vite');
  // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn', mode: 'production' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
