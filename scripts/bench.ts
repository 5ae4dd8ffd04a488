/**
 * The benchmark (`npm run bench`): at the vendor's quota a sync takes no longer than the
 * quota allows, and writes only what changed.
 *
 * Starts its own stack on free ports (Temporal dev server in memory, DynamoDB Local in
 * memory, the vendor simulator in this process), runs N worker processes
 * (scripts/bench-worker.ts: the production worker plus a stats channel), and measures three
 * runs: a full run into empty tables, a second full run with nothing changed, and a full
 * run after about 1% of the records changed. Prints a table per run and the targets
 * (PASS/FAIL), and writes everything to a JSON file. Exits 0 whatever the targets say;
 * non-zero only when the stack itself fails. Everything it started is stopped on exit,
 * on error and on Ctrl-C.
 *
 * This file starts and stops the stack and the workers; the rest lives in scripts/bench/:
 * settings.ts (command line, defaults, thresholds), workers.ts (the worker processes),
 * run.ts (one measured run), measure.ts (the figures outside the workers) and report.ts
 * (tables and targets). What the tables must hold and the requests a run needs come from
 * src/sim/expected.ts, as in the tests.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connectClient, localTemporal } from '../src/client.js';
import { describeCodecConfig, loadCodecConfig } from '../src/codec/index.js';
import { taskQueues } from '../src/shared/task-queues.js';
import { VendorSimulator } from '../src/sim/index.js';
import { createDynamoClients, ensureTables, tableNames } from '../src/store/index.js';
import { workflowBundle } from '../src/workflow-bundle.js';
import { machine } from './bench/measure.js';
import { type RunResult, type Target, actionsTable, evaluate, n, rowsOf, table } from './bench/report.js';
import { type RunContext, measureRun } from './bench/run.js';
import { type FeedRunResult, feedReport, feedTargets, startBenchFeed } from './bench/feed.js';
import { HELP, type Settings, isDefault, parseSettings } from './bench/settings.js';
import { sweepCostReport } from './bench/sweeps.js';
import { type WorkerProc, startBenchWorker } from './bench/workers.js';
import { StopList } from './lib/stop-list.js';
import { workerEnv } from './worker-command.js';
import {
  localLanding,
  localLandingEnv,
  type RunningProcess,
  startObjectServer,
  freePort,
  startDynamoLocal,
  startTemporalDevServer,
  stopChild,
} from './stack.js';

const API_KEY = 'bench-key';

let interrupted = false;

/** Prints what this benchmark measures: its settings, any experiment, and the machine. */
function printIntro(cfg: Settings, mach: ReturnType<typeof machine>, employeesPerBranch: number): void {
  console.log(
    `bench: ${cfg.branches} branches x ${cfg.salespersons} salespersons (${employeesPerBranch} employees) x ${cfg.sales} sales, ` +
      `page size ${cfg.pageSize}, quota ${cfg.quota}/s, latency ${cfg.latencyMs} ms, ${cfg.workers} worker process(es), runs: ${cfg.runs.join(', ')}`,
  );
  const experiments = [
    cfg.plainPayloads ? 'payloads not encrypted' : '',
    cfg.quotaHeadroom !== undefined ? `quota headroom ${cfg.quotaHeadroom}%` : '',
    cfg.workerNodeOptions !== undefined ? `worker NODE_OPTIONS=${JSON.stringify(cfg.workerNodeOptions)}` : '',
    ...cfg.temporalDynamicConfig.map((kv) => `Temporal dynamic config ${kv}`),
    cfg.branchConcurrency ? `branch concurrency ${cfg.branchConcurrency}` : '',
    cfg.salespersonConcurrency ? `salesperson concurrency ${cfg.salespersonConcurrency}` : '',
    cfg.profile ? `workers' CPU profiles into ${cfg.profile}` : '',
  ].filter(Boolean);
  if (experiments.length) console.log(`experiment: ${experiments.join('; ')}`);
  if (cfg.scale)
    console.log(
      `scale preset: quota raised to ${cfg.quota}/s and ${cfg.sales} sale(s) per salesperson so that ${cfg.branches} x ${cfg.salespersons} ` +
        'finishes in minutes; it checks workflow count, history size and memory, not the default wall-time target.',
    );
  else if (!isDefault(cfg))
    console.log('note: not the default settings; the targets are stated for the defaults.');
  console.log(
    `machine: ${mach.nproc} CPUs (${mach.cpuModel}), ${n(mach.memTotalMb)} MB, Node ${mach.node}, ${mach.temporal}`,
  );
}

/** The simulator, DynamoDB Local, the Temporal dev server and (unless --no-landing) the landing zone. */
async function startStack(cfg: Settings, stops: StopList, employeesPerBranch: number) {
  const sim = await VendorSimulator.start({
    port: 0,
    apiKeys: [API_KEY],
    quota: cfg.quota,
    latencyMs: cfg.latencyMs,
    seed: cfg.seed,
    branches: cfg.branches,
    employeesPerBranch,
    salespersonShare: 0.5,
    salesPerSalesperson: cfg.sales,
  });
  stops.add('simulator', () => sim.stop());
  const dynamo = await startDynamoLocal({ port: await freePort() });
  stops.add(dynamo.name, () => dynamo.stop());
  const temporal = await startTemporalDevServer({
    port: await freePort(),
    uiPort: await freePort(),
    dynamicConfig: cfg.temporalDynamicConfig,
    metricsPort: await freePort(),
  });
  stops.add(temporal.name, () => temporal.stop());
  const started: RunningProcess[] = [dynamo, temporal];
  // The landing zone as npm start has it: versitygw with its buckets in a temporary folder.
  let landing: RunContext['landing'] = null;
  if (!cfg.noLanding) {
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-objects-'));
    stops.add('object server data', () => rmSync(dataDir, { recursive: true, force: true }));
    const server = await startObjectServer({ port: await freePort(), dataDir });
    stops.add(server.name, () => server.stop());
    started.push(server);
    const zone = await localLanding(server, 'bench-landing');
    stops.add('s3 client', () => zone.s3.destroy());
    landing = { zone, server };
  }
  console.log(
    `stack: simulator ${sim.url}, DynamoDB Local ${dynamo.endpoint}, Temporal ${temporal.address} (UI ${temporal.uiUrl})`,
  );
  return { sim, dynamo, temporal, started, landing };
}

type Stack = Awaited<ReturnType<typeof startStack>>;

/** The workers' environment: this stack, the settings under test, and the payload key. */
function benchWorkerEnv(
  cfg: Settings,
  { sim, dynamo, temporal, landing }: Stack,
  prefix: string,
  suffix: string,
  key: string | undefined,
): NodeJS.ProcessEnv {
  // The parent's settings that would point a worker elsewhere are not inherited (scripts/worker-command.ts).
  return workerEnv({
    VENDOR_API_URL: sim.url,
    VENDOR_API_KEY: API_KEY,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    AWS_REGION: 'us-east-1',
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TLS: 'false',
    TABLE_PREFIX: prefix,
    TABLE_SUFFIX: '',
    VENDOR_QUOTA_RPS: String(cfg.quota),
    VENDOR_QUOTA_HEADROOM_PERCENT: cfg.quotaHeadroom === undefined ? undefined : String(cfg.quotaHeadroom),
    VENDOR_PAGE_SIZE: String(cfg.pageSize),
    TASK_QUEUE_SUFFIX: suffix,
    NODE_OPTIONS: cfg.workerNodeOptions,
    PAYLOAD_ENCRYPTION_KEY: key,
    ...(landing ? localLandingEnv(landing.server, landing.zone.bucket) : { LANDING: 'off' }),
  });
}

/** Starts the worker processes on a prebuilt workflow bundle; every one is stopped on exit. */
async function startWorkers(cfg: Settings, env: NodeJS.ProcessEnv, stops: StopList): Promise<WorkerProc[]> {
  const workers: WorkerProc[] = [];
  stops.add('workers', () => Promise.all(workers.map((w) => stopChild(w.child, 20_000))));
  // Build the workflow bundle once, before the workers start (as a deployment does with
  // `npm run bundle`): the workers then load it by path.
  await workflowBundle();
  const spawning = Array.from({ length: cfg.workers }, () => startBenchWorker(env, cfg.profile));
  // Register each worker as soon as it exists, so a failure of one still stops the others.
  const results = await Promise.allSettled(
    spawning.map((p) =>
      p.then((w) => {
        workers.push(w);
        return w;
      }),
    ),
  );
  const failed = results.find((r) => r.status === 'rejected');
  if (failed?.status === 'rejected') throw failed.reason;
  return workers;
}

/** Measures each run in turn, and the change feed after each (started after the first run). */
async function measureRuns(ctx: RunContext, env: NodeJS.ProcessEnv, stops: StopList) {
  const { cfg, landing } = ctx;
  const runs: RunResult[] = [];
  // The change feed (scripts/bench/feed.ts): started after the first run, measured after each.
  const feed = landing && !cfg.noFeed ? await startBenchFeed(ctx, env, stops) : undefined;
  const feedRuns: FeedRunResult[] = [];
  let before = new Map<string, string>();
  for (const kind of cfg.runs) {
    if (interrupted) break;
    const startedAt = new Date();
    const { result, expected } = await measureRun(ctx, kind, before);
    runs.push(result);
    before = expected;
    if (!feed) continue;
    if (!feed.running) feed.start();
    feedRuns.push(await feed.afterRun(kind, startedAt, Date.now(), result.dynamo.itemsChanged));
  }
  return { runs, feed, feedRuns };
}

/** Prints the runs side by side, the change feed, the billable actions and the targets. */
function printResults(
  cfg: Settings,
  { runs, feed, feedRuns }: Awaited<ReturnType<typeof measureRuns>>,
  targets: Target[],
): void {
  const scope = cfg.scale
    ? ' (scale preset: quota raised, 1 sale per salesperson)'
    : isDefault(cfg)
      ? ''
      : ' (non-default settings)';
  console.log(`\n=== results${scope} ===`);
  const header = ['metric', ...runs.map((r) => r.kind)];
  const all = runs.map(rowsOf);
  const combined = (all[0] ?? []).map(([label], i) => [label, ...all.map((rows) => rows[i]?.[1] ?? '')]);
  console.log(table([header, ...combined]));
  if (feed) console.log(`\n=== change feed ===\n${feedReport(feedRuns, feed.settings).join('\n')}`);
  const actions = actionsTable(runs);
  if (actions) console.log(`\n=== billable Temporal actions (the server's action counter) ===\n${actions}`);
  console.log(`\n=== targets${scope} ===`);
  for (const t of targets)
    console.log(`${t.pass === null ? 'N/A ' : t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.detail}`);
}

/** This benchmark's tables in DynamoDB Local, named with `prefix`, and a client of them. */
async function benchTables(endpoint: string, prefix: string, stops: StopList) {
  const clients = createDynamoClients({
    endpoint,
    region: 'us-east-1',
    tablePrefix: prefix,
    tableSuffix: '',
  });
  stops.add('dynamodb client', () => clients.raw.destroy());
  const names = tableNames(prefix, '');
  await ensureTables(clients.raw, names);
  return { clients, names };
}

/** Stops everything on SIGINT or SIGTERM (exit 130), once. */
function stopOnSignal(stopAll: () => Promise<void>): void {
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = true;
    console.error(`\n${sig}: stopping everything the benchmark started...`);
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

// One function on purpose: the benchmark's phases in the order it runs them.
async function main(): Promise<number> {
  let settings: Settings | 'help';
  try {
    settings = parseSettings(process.argv.slice(2));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (settings === 'help') {
    console.log(HELP);
    return 0;
  }
  const cfg = settings;
  if (cfg.sweepCost) {
    console.log(sweepCostReport(cfg).text);
    return 0;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  // Everything started is registered here and stopped in reverse order, once.
  const stops = new StopList();
  const stopAll = async (): Promise<void> => {
    for (const failure of await stops.stopAll()) console.error(`stopping ${failure}`);
  };
  stopOnSignal(stopAll);

  try {
    const mach = machine();
    const employeesPerBranch = cfg.salespersons * 2;
    printIntro(cfg, mach, employeesPerBranch);
    const stack = await startStack(cfg, stops, employeesPerBranch);
    const { sim, dynamo, temporal, started, landing } = stack;

    const prefix = `bench-${Date.now().toString(36)}-`;
    const suffix = `-bench-${Date.now().toString(36)}`;
    const { clients, names } = await benchTables(dynamo.endpoint, prefix, stops);

    // Payloads are encrypted as the main job does (a fresh key per benchmark), unless --plain-payloads.
    const key = cfg.plainPayloads ? undefined : randomBytes(32).toString('base64');
    const codec = loadCodecConfig(key ? { PAYLOAD_ENCRYPTION_KEY: key } : {});
    const env = benchWorkerEnv(cfg, stack, prefix, suffix, key);
    const workers = await startWorkers(cfg, env, stops);
    console.log(`workers: ${workers.map((w) => `pid ${w.pid}`).join(', ')} polling *${suffix}`);

    const { client, close } = await connectClient(localTemporal(temporal.address), codec);
    stops.add('temporal client', close);
    console.log(`payloads: ${describeCodecConfig(codec)}`);
    const queues = taskQueues(suffix);
    const branchNames = sim.dataset.branches.map((b) => b.branch_name);

    const ctx = { cfg, sim, temporal, dynamo, workers, client, queues, clients, names, branchNames, landing };
    const measured = await measureRuns(ctx, env, stops);
    const { runs, feed, feedRuns } = measured;
    const targets = [...evaluate(cfg, runs), ...feedTargets(feedRuns)];
    printResults(cfg, measured, targets);
    // Computed from the data the runs synced (its anchor is the hour the simulator started), without vendor traffic.
    const sweeps = sweepCostReport(cfg, sim.dataset.options.anchorTime);
    console.log(`\n=== sweeps: what they cost ===\n${sweeps.text}`);

    const out = {
      generatedAt: new Date().toISOString(),
      settings: { ...cfg, employeesPerBranch, salespersonShare: 0.5, defaults: isDefault(cfg) },
      machine: mach,
      stack: {
        simulator: sim.url,
        dynamodb: dynamo.endpoint,
        temporal: temporal.address,
        processes: started.map((p) => ({ name: p.name, pid: p.child.pid })),
      },
      runs,
      feed: feed ? { settings: feed.settings, runs: feedRuns } : null,
      sweepCost: sweeps.asBenchmarked,
      targets,
    };
    mkdirSync(dirname(cfg.out), { recursive: true });
    writeFileSync(cfg.out, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`\nresults written to ${cfg.out}`);
    return 0;
  } finally {
    await stopAll();
  }
}

main().then(
  (code) => {
    if (!interrupted) process.exit(code);
  },
  (err: unknown) => {
    if (interrupted) return;
    console.error(
      `bench: the stack failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    process.exit(1);
  },
);
