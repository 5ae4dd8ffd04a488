/**
 * One benchmark worker process: the production worker (src/worker.ts createWorkersFromConfig:
 * same activities, task queues, server-side rate limit and codec) plus an IPC channel to the
 * benchmark that started it, over which it reports its DynamoDB Store stats and peak memory.
 *
 * Started by scripts/bench.ts as `npm run worker` starts src/worker.ts (compiled: .build/js/scripts/bench-worker.js) with the
 * worker's usual environment (VENDOR_API_URL, VENDOR_API_KEY, DYNAMODB_ENDPOINT,
 * TEMPORAL_ADDRESS, TABLE_PREFIX, VENDOR_QUOTA_RPS, VENDOR_PAGE_SIZE, TASK_QUEUE_SUFFIX, and
 * PAYLOAD_ENCRYPTION_KEY as the main job sets it).
 *
 * Messages from the parent: `{ type: 'stats' }` (answered with a WorkerReport) and
 * `{ type: 'stop' }` (shut down, send a final report, exit). Losing the parent (the IPC
 * channel closes) also shuts the worker down, so a killed benchmark leaves nothing behind.
 */
import { NativeConnection } from '@temporalio/worker';
import { loadCodecConfig } from '../src/codec/index.js';
import { loadConfig } from '../src/config/index.js';
import { temporalConnectionOptions } from '../src/config/temporal.js';
import { ConfigError } from '../src/shared/errors.js';
import type { StoreStats } from '../src/store/index.js';
import { createWorkersFromConfig, installRuntime, runWorkers } from '../src/worker.js';
import { procStatusKb } from './lib/proc.js';

/** What a worker process reports to the benchmark. */
export interface WorkerReport {
  type: 'ready' | 'stats' | 'final';
  pid: number;
  store: StoreStats;
  /** The sync state's own DynamoDB clients (watermarks, first sight). */
  state: StoreStats;
  /** process.resourceUsage().maxRSS, in KiB. */
  maxRssKb: number;
  /** VmHWM (peak resident set) from /proc/self/status, in KiB (null off Linux). */
  vmHwmKb: number | null;
  /** VmRSS (resident set now), in KiB (null off Linux). */
  vmRssKb: number | null;
  /** process.memoryUsage() now, bytes: where the resident set goes (V8 heap vs native). */
  memory: NodeJS.MemoryUsage;
  /** CPU time of this process so far, µs. */
  cpuUserUs: number;
  cpuSystemUs: number;
}

/** Messages the benchmark sends to a worker. */
export type WorkerCommand = { type: 'stats' } | { type: 'stop' };

async function main(): Promise<void> {
  if (!process.send)
    throw new Error('bench-worker must be started by scripts/bench.ts (it needs an IPC channel)');
  const config = loadConfig();
  const codec = loadCodecConfig();
  // No metrics endpoint: the benchmark starts several workers on one machine and reads its own figures.
  await installRuntime();
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  // Exactly what src/worker.ts runs: the same activities, task queues, rate limit and codec.
  // The sync state has DynamoDB clients of its own: its requests are reported apart from the synced tables'.
  const { workers, store, state } = await createWorkersFromConfig(config, connection, codec);

  const report = (type: WorkerReport['type']): WorkerReport => {
    const usage = process.resourceUsage();
    return {
      type,
      pid: process.pid,
      store: structuredClone(store.clients.stats),
      state: structuredClone(state.clients.stats),
      maxRssKb: usage.maxRSS,
      vmHwmKb: procStatusKb('self', 'VmHWM'),
      vmRssKb: procStatusKb('self', 'VmRSS'),
      memory: process.memoryUsage(),
      cpuUserUs: usage.userCPUTime,
      cpuSystemUs: usage.systemCPUTime,
    };
  };
  const send = (msg: WorkerReport): Promise<void> =>
    new Promise((resolve) => {
      if (!process.connected || !process.send) return resolve();
      process.send(msg, undefined, {}, () => resolve());
    });

  const stop = new AbortController();
  process.on('message', (msg: WorkerCommand) => {
    if (msg.type === 'stats') void send(report('stats'));
    else if (msg.type === 'stop') stop.abort();
  });
  process.once('disconnect', () => stop.abort());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stop.abort());

  const done = runWorkers(workers, stop.signal);
  await send(report('ready'));
  await done;
  await connection.close();
  store.clients.raw.destroy();
  await send(report('final'));
  if (process.connected) process.disconnect();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(
      `bench-worker ${process.pid}: ${err instanceof ConfigError ? `configuration error: ${err.message}` : String(err)}`,
    );
    process.exit(1);
  },
);
