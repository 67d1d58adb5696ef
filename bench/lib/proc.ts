/** Child processes for the bench: spawn, wait until healthy, sample memory, stop. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Proc {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  /** Lifetime peak resident set (VmHWM) in MiB; NaN once the process is gone. */
  peakRssMb(): number;
  /** Current resident set (VmRSS) in MiB. */
  rssMb(): number;
  /** CPU time (user + system) in clock ticks so far. */
  cpuTicks(): number;
  /** What the process wrote to stderr/stdout (last 64 KiB), for diagnostics. */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function statusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m?.[1] ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return Number.NaN;
  }
}

/**
 * Waits until the processes are idle (under 10% of a core over 250 ms), so that work queued by
 * one measurement (argon2 verifications still in the pool, say) does not slow the next one.
 */
export async function quiesce(procs: Proc[], timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = procs.map((p) => p.cpuTicks());
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    const now = procs.map((p) => p.cpuTicks());
    // 100 ticks per second: 10% of a core over 250 ms is 2.5 ticks.
    const busy = now.some((t, i) => !(t - (last[i] ?? 0) <= 2.5));
    last = now;
    if (!busy) return;
  }
}

export async function waitHealthy(url: string, child: ChildProcess, timeoutMs = 60_000, path = '/healthz'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before it was healthy`);
    try {
      const res = await fetch(url + path);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}${path} not healthy after ${timeoutMs} ms`);
}

/** Spawns `node <args>` with `env`, listening on `port`; resolves once `/healthz` answers. */
export async function startProcess(args: string[], env: Record<string, string>, port: number, cwd: string): Promise<Proc> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString('utf8')).slice(-65_536);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(url, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${out}`);
  }
  const pid = child.pid as number;
  return {
    child,
    pid,
    url,
    port,
    peakRssMb: () => statusKb(pid, 'VmHWM') / 1024,
    rssMb: () => statusKb(pid, 'VmRSS') / 1024,
    cpuTicks: () => cpuTicks(pid),
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Runs `node <args>` to completion and answers its stdout. */
export function runToEnd(args: string[], env: Record<string, string>, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}
