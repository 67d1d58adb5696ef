/**
 * The physical ceiling of password login: argon2id verifications with the server's parameters,
 * `BENCH_CONNECTIONS` of them in flight at once (like the load generator's connections), for
 * `BENCH_DURATION` seconds. Runs in its own process; prints one JSON line `{ops, seconds, rate}`.
 */
import { hash, verify } from '@node-rs/argon2';

const memoryCost = Number(process.env.PORTCULLIS_ARGON2_MEMORY_KIB ?? 19456);
const timeCost = Number(process.env.PORTCULLIS_ARGON2_TIME_COST ?? 2);
const parallelism = Number(process.env.PORTCULLIS_ARGON2_PARALLELISM ?? 1);
const inFlight = Number(process.env.BENCH_CONNECTIONS ?? 50);
const seconds = Number(process.env.BENCH_DURATION ?? 6);
const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 1);

const options = { algorithm: 2 as const, memoryCost, timeCost, parallelism };
const stored = await hash('correct horse battery staple', options);

async function run(forMs: number): Promise<{ ops: number; latencies: number[] }> {
  const until = Date.now() + forMs;
  let ops = 0;
  const latencies: number[] = [];
  const worker = async (): Promise<void> => {
    while (Date.now() < until) {
      const t0 = performance.now();
      await verify(stored, 'correct horse battery staple');
      latencies.push(performance.now() - t0);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { ops, latencies };
}

await run(warmupSeconds * 1000);
const t0 = performance.now();
const { ops, latencies } = await run(seconds * 1000);
const elapsed = (performance.now() - t0) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(`${JSON.stringify({ ops, seconds: elapsed, rate: ops / elapsed, p50: pct(50), p99: pct(99) })}\n`);
