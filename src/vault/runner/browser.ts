import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

/** Marks every Chromium the runner starts (Chromium ignores unknown switches): operators and tests count them by it. */
export const PROCESS_MARKER = '--portcullis-runner';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-sync',
  '--no-first-run',
  '--metrics-recording-only',
];

export interface ProxySettings {
  server: string;
  username?: string | undefined;
  password?: string | undefined;
}

/** True when the configured Chromium exists and is executable. */
export async function browserAvailable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A headless Chromium for one run, controlled over a pipe: when this process dies, even by SIGKILL,
 * the pipe closes and Chromium exits with it. Playwright also kills it on SIGINT, SIGTERM and SIGHUP.
 */
export async function launchBrowser(executablePath: string, instanceId: string, proxy?: ProxySettings): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...ARGS, `${PROCESS_MARKER}=${instanceId}`],
    timeout: 30_000,
    ...(proxy ? { proxy } : {}),
  });
}

/**
 * A headless Chromium whose DevTools endpoint also listens on a loopback port (the live browser
 * sessions' CDP clients reach it only through Portcullis's authenticated proxy). Its profile lives
 * in `userDataDir`, where Chromium writes the port it chose (`DevToolsActivePort`).
 */
export async function launchLiveBrowser(
  executablePath: string,
  instanceId: string,
  userDataDir: string,
  proxy?: ProxySettings,
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [...ARGS, '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', `${PROCESS_MARKER}=${instanceId}`],
    timeout: 30_000,
    serviceWorkers: 'block',
    ...(proxy ? { proxy } : {}),
  });
}
