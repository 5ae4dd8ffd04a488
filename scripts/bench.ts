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
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { Client, Connection } from '@temporalio/client';
import { runOutcome, startRun } from '../src/cli/runs.js';
import { dataConverterFor, describeCodecConfig, loadCodecConfig } from '../src/codec/index.js';
import { describeSummary, itemsWritten, type SyncSummary } from '../src/shared/summary.js';
import { taskQueues } from '../src/shared/task-queues.js';
import { type RequestsNeeded, expectedRecords, requestsNeeded } from '../src/sim/expected.js';
import { type Dataset, type MutationReport, type SimCounters, VendorSimulator } from '../src/sim/index.js';
import {
  type DynamoClients,
  type StoreStats,
  type TableNames,
  contentHash,
  createDynamoClients,
  ensureTables,
  tableNames,
} from '../src/store/index.js';
import type { WorkerCommand, WorkerReport } from './bench-worker.js';
import { workflowBundle } from '../src/workflow-bundle.js';
import { workerNodeFlags } from './worker-command.js';
import {
  ROOT,
  type RunningProcess,
  freePort,
  startDynamoLocal,
  startTemporalDevServer,
  stopChild,
  temporalCliPath,
} from './stack.js';

const TEMPORAL_HISTORY_LIMIT = 51_200;
const TEMPORAL_HISTORY_WARNING = 10_240;
const WALL_FACTOR = 1.15;
const MEMORY_LIMIT_MB = 400;
const API_KEY = 'bench-key';

const RUN_KINDS = ['first', 'second', 'mutated'] as const;
type RunKind = (typeof RUN_KINDS)[number];

const DEFAULTS = {
  branches: 20,
  salespersons: 30,
  sales: 100,
  pageSize: 20,
  quota: 20,
  latencyMs: 50,
  workers: 1,
  seed: 1,
};
/** The history/scale check: 200 branches x 50 salespersons, one page of sales each, quota raised. */
const SCALE = { branches: 200, salespersons: 50, sales: 1, quota: 200 };

const HELP = `usage: npm run bench -- [options]

Starts Temporal (dev server, in memory), DynamoDB Local (in memory) and the vendor
simulator on free ports, runs worker processes, and measures three full runs:
  first    into empty tables
  second   nothing changed (must write nothing)
  mutated  after ~1% of the sales changed (plus 2 transfers and 2 branch changes)
Prints a table per run and PASS/FAIL per target; writes the figures to a JSON file.

Dataset
  --branches N            branches (default ${DEFAULTS.branches})
  --salespersons N        salespersons per branch (default ${DEFAULTS.salespersons}); each branch has
                          2N employees (salespersonShare 0.5)
  --sales N               sales per salesperson (default ${DEFAULTS.sales})
  --seed N                data seed (default ${DEFAULTS.seed})
Vendor
  --page-size N           page size asked for every list (default ${DEFAULTS.pageSize})
  --quota N               vendor quota, requests/s (simulator and task-queue limit; default ${DEFAULTS.quota})
  --latency-ms N          simulator latency per request (default ${DEFAULTS.latencyMs})
Pipeline
  --workers N             worker processes on the same task queues (default ${DEFAULTS.workers})
  --branch-concurrency N, --salesperson-concurrency N
                          override the workflow defaults (4 and 16)
Experiments
  --plain-payloads        no payload encryption (by default payloads are encrypted as in npm start)
  --quota-headroom P      VENDOR_QUOTA_HEADROOM_PERCENT of the workers (default 10): the task
                          queue dispatches at quota x (1 - P/100); the bound stays R/quota
  --worker-node-options=S NODE_OPTIONS of the worker processes (note the "="), e.g.
                          --worker-node-options=--max-old-space-size=320
  --temporal-dynamic-config KEY=VALUE
                          dynamic config of the dev server (repeatable), e.g.
                          matching.numTaskqueueReadPartitions=4 (the default is 1: see stack.ts)
Benchmark
  --runs LIST             comma-separated subset of first,second,mutated (default all; first is
                          always needed, it fills the tables)
  --scale                 the history/scale check: ${SCALE.branches} branches x ${SCALE.salespersons} salespersons,
                          ${SCALE.sales} sale each, quota ${SCALE.quota}/s, --runs first (explicit flags still win)
  --out FILE              JSON results (default bench-results/bench-<timestamp>.json)
  --help                  this text

Targets (at the default settings): first and mutated runs take at most ${WALL_FACTOR} x R/Q
(R: requests needed, Q: quota); no 429 in any run; requests made = requests needed; the
second run makes no DynamoDB write; the mutated run writes exactly the items that changed;
no workflow history above ${TEMPORAL_HISTORY_WARNING.toLocaleString('en-US')} events; every worker under ${MEMORY_LIMIT_MB} MB peak RSS.`;

class UsageError extends Error {}

/** Everything one benchmark invocation is configured with. */
interface Settings {
  branches: number;
  salespersons: number;
  sales: number;
  seed: number;
  pageSize: number;
  quota: number;
  latencyMs: number;
  workers: number;
  branchConcurrency: number | undefined;
  salespersonConcurrency: number | undefined;
  runs: RunKind[];
  scale: boolean;
  /** Payloads unencrypted (the main job encrypts them with a generated key; so does the benchmark by default). */
  plainPayloads: boolean;
  /** VENDOR_QUOTA_HEADROOM_PERCENT of the workers when it differs from the default. */
  quotaHeadroom: number | undefined;
  /** NODE_OPTIONS of the worker processes (e.g. --max-old-space-size=256). */
  workerNodeOptions: string | undefined;
  /** Extra `--dynamic-config-value KEY=VALUE` for the Temporal dev server. */
  temporalDynamicConfig: string[];
  out: string;
}

function parseSettings(argv: string[]): Settings | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      branches: { type: 'string' },
      salespersons: { type: 'string' },
      sales: { type: 'string' },
      seed: { type: 'string' },
      'page-size': { type: 'string' },
      quota: { type: 'string' },
      'latency-ms': { type: 'string' },
      workers: { type: 'string' },
      'branch-concurrency': { type: 'string' },
      'salesperson-concurrency': { type: 'string' },
      runs: { type: 'string' },
      scale: { type: 'boolean' },
      'plain-payloads': { type: 'boolean' },
      'worker-node-options': { type: 'string' },
      'quota-headroom': { type: 'string' },
      'temporal-dynamic-config': { type: 'string', multiple: true },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const scale = values.scale ?? false;
  const int = (name: string, raw: string | undefined, fallback: number, min: number, max: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`--${name} ${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
    return n;
  };
  const optional = (name: string, raw: string | undefined): number | undefined =>
    raw === undefined ? undefined : int(name, raw, 0, 1, 500);
  const runs = (values.runs ?? (scale ? 'first' : RUN_KINDS.join(',')))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const r of runs)
    if (!(RUN_KINDS as readonly string[]).includes(r))
      throw new UsageError(`--runs: unknown run ${JSON.stringify(r)}; expected first, second, mutated`);
  if (!runs.includes('first')) throw new UsageError('--runs must include first (it fills the tables)');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    branches: int('branches', values.branches, scale ? SCALE.branches : DEFAULTS.branches, 1, 100_000),
    salespersons: int(
      'salespersons',
      values.salespersons,
      scale ? SCALE.salespersons : DEFAULTS.salespersons,
      1,
      100_000,
    ),
    sales: int('sales', values.sales, scale ? SCALE.sales : DEFAULTS.sales, 0, 1_000_000),
    seed: int('seed', values.seed, DEFAULTS.seed, 0, 2 ** 31),
    pageSize: int('page-size', values['page-size'], DEFAULTS.pageSize, 1, 500),
    quota: int('quota', values.quota, scale ? SCALE.quota : DEFAULTS.quota, 1, 100_000),
    latencyMs: int('latency-ms', values['latency-ms'], DEFAULTS.latencyMs, 0, 60_000),
    workers: int('workers', values.workers, DEFAULTS.workers, 1, 64),
    branchConcurrency: optional('branch-concurrency', values['branch-concurrency']),
    salespersonConcurrency: optional('salesperson-concurrency', values['salesperson-concurrency']),
    runs: RUN_KINDS.filter((k) => runs.includes(k)),
    scale,
    plainPayloads: values['plain-payloads'] ?? false,
    workerNodeOptions: values['worker-node-options'],
    quotaHeadroom:
      values['quota-headroom'] === undefined
        ? undefined
        : int('quota-headroom', values['quota-headroom'], 0, 0, 50),
    temporalDynamicConfig: (values['temporal-dynamic-config'] ?? []).map((kv) => {
      if (!/^[A-Za-z0-9_.]+=\S+$/.test(kv))
        throw new UsageError(`--temporal-dynamic-config ${JSON.stringify(kv)}: expected KEY=VALUE`);
      return kv;
    }),
    out: resolve(values.out ?? join(ROOT, 'bench-results', `bench-${stamp}.json`)),
  };
}

/** True when the settings are the issue's default benchmark (targets are stated for these). */
function isDefault(s: Settings): boolean {
  return (
    s.branchConcurrency === undefined &&
    s.salespersonConcurrency === undefined &&
    s.workerNodeOptions === undefined &&
    !s.plainPayloads &&
    s.quotaHeadroom === undefined &&
    s.temporalDynamicConfig.length === 0 &&
    s.branches === DEFAULTS.branches &&
    s.salespersons === DEFAULTS.salespersons &&
    s.sales === DEFAULTS.sales &&
    s.pageSize === DEFAULTS.pageSize &&
    s.quota === DEFAULTS.quota &&
    s.latencyMs === DEFAULTS.latencyMs
  );
}

// ---------------------------------------------------------------------------------------
// What the dataset needs: requests and items
// ---------------------------------------------------------------------------------------

/** The items the tables must hold after a full sync: `table|key` -> content hash (as the store computes it). */
function expectedItems(ds: Dataset, names: string[]): Map<string, string> {
  const items = new Map<string, string>();
  for (const e of expectedRecords(ds, names)) items.set(`${e.table}|${e.key}`, contentHash(e.record));
  return items;
}

function countByTable(items: Map<string, string>): Record<string, number> {
  const out: Record<string, number> = { branches: 0, salespersons: 0, sales: 0 };
  for (const key of items.keys()) {
    const t = key.slice(0, key.indexOf('|'));
    out[t] = (out[t] ?? 0) + 1;
  }
  return out;
}

/** Keys that are new or whose content differs between two expected-item maps. */
function changedItems(before: Map<string, string>, after: Map<string, string>): number {
  let n = 0;
  for (const [k, h] of after) if (before.get(k) !== h) n++;
  return n;
}

// ---------------------------------------------------------------------------------------
// Processes: worker children, CPU time, machine
// ---------------------------------------------------------------------------------------

interface WorkerProc {
  child: ChildProcess;
  pid: number;
  last: WorkerReport | undefined;
  ready: WorkerReport | undefined;
  waiters: ((r: WorkerReport) => void)[];
}

function spawnWorker(env: NodeJS.ProcessEnv): Promise<WorkerProc> {
  const args = [...workerNodeFlags(), '--import', 'tsx', join(ROOT, 'scripts', 'bench-worker.ts')];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const proc: WorkerProc = {
    child,
    pid: child.pid ?? -1,
    last: undefined,
    ready: undefined,
    waiters: [],
  };
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${proc.pid} not ready within 180 s`)), 180_000);
    child.on('message', (msg: WorkerReport) => {
      proc.last = msg;
      if (msg.type === 'ready') {
        proc.ready = msg;
        clearTimeout(timer);
        resolveReady(proc);
      }
      const waiters = proc.waiters.splice(0);
      for (const w of waiters) w(msg);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`worker ${proc.pid} exited (${signal ?? `code ${code}`}) before it was ready`));
    });
  });
}

async function workerStats(w: WorkerProc): Promise<WorkerReport> {
  if (!w.child.connected) {
    if (w.last) return w.last;
    throw new Error(`worker ${w.pid} is gone`);
  }
  return new Promise((resolveStats, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${w.pid} did not report stats`)), 30_000);
    w.waiters.push((r) => {
      clearTimeout(timer);
      resolveStats(r);
    });
    w.child.send({ type: 'stats' } satisfies WorkerCommand);
  });
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU seconds of a process from /proc (null when unavailable). */
function cpuSeconds(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

function procStatusKb(pid: number | undefined, field: string): number | null {
  if (!pid) return null;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of all CPUs, from /proc/stat. */
function hostCpu(): { idle: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { idle, total: v.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/** Rate statistics over the steady part of a run (without its first and last 2 s). */
function steadyRate(perSecond: number[], quota: number): RunResult['rate'] {
  const steady = perSecond.slice(2, -2);
  const sum = steady.reduce((a, b) => a + b, 0);
  return {
    perSecond,
    steadyMean: steady.length ? sum / steady.length : 0,
    secondsBelow90: steady.filter((x) => x < 0.9 * quota).length,
    steadySeconds: steady.length,
  };
}

function machine() {
  let memTotalMb = Math.round(totalmem() / 2 ** 20);
  try {
    const m = /^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) memTotalMb = Math.round(Number(m[1]) / 1024);
  } catch {
    // not Linux: os.totalmem() it is
  }
  const nproc = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || cpus().length;
  const temporal = spawnSync(temporalCliPath(), ['--version'], { encoding: 'utf8' }).stdout.trim();
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0]?.trim() ?? '';
  return {
    nproc,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memTotalMb,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    temporal,
    java,
  };
}

// ---------------------------------------------------------------------------------------
// Temporal: workflows of a run and their histories
// ---------------------------------------------------------------------------------------

interface HistoryStats {
  /** Executions started during the run (every continue-as-new run counts). */
  executions: number;
  byType: Record<string, number>;
  continuedAsNew: number;
  notCompleted: number;
  largest: { events: number; workflowId: string; type: string };
  /** Largest history per workflow type. */
  largestByType: Record<string, number>;
  /** Parent's history length per describe(). */
  parentEvents: number;
}

async function historyStats(client: Client, fromIso: string, toIso: string, parentId: string) {
  const query = `StartTime >= '${fromIso}' AND StartTime <= '${toIso}'`;
  // Visibility is eventually consistent: wait until nothing is running and the count is stable.
  let last = -1;
  for (let i = 0; i < 60; i++) {
    const total = (await client.workflow.count(query)).count;
    const running = (await client.workflow.count(`${query} AND ExecutionStatus = 'Running'`)).count;
    if (running === 0 && total === last) break;
    last = total;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const stats: HistoryStats = {
    executions: 0,
    byType: {},
    continuedAsNew: 0,
    notCompleted: 0,
    largest: { events: 0, workflowId: '', type: '' },
    largestByType: {},
    parentEvents: 0,
  };
  for await (const wf of client.workflow.list({ query })) {
    stats.executions++;
    stats.byType[wf.type] = (stats.byType[wf.type] ?? 0) + 1;
    if (wf.status.name === 'CONTINUED_AS_NEW') stats.continuedAsNew++;
    else if (wf.status.name !== 'COMPLETED') stats.notCompleted++;
    if (wf.historyLength > stats.largest.events)
      stats.largest = { events: wf.historyLength, workflowId: wf.workflowId, type: wf.type };
    stats.largestByType[wf.type] = Math.max(stats.largestByType[wf.type] ?? 0, wf.historyLength);
  }
  const parent = await client.workflow.getHandle(parentId).describe();
  stats.parentEvents = parent.historyLength;
  if (parent.historyLength > stats.largest.events)
    stats.largest = { events: parent.historyLength, workflowId: parentId, type: parent.type };
  return stats;
}

// ---------------------------------------------------------------------------------------
// One run
// ---------------------------------------------------------------------------------------

interface RunResult {
  kind: RunKind;
  workflowId: string;
  ok: boolean;
  error: string | undefined;
  summary: string | undefined;
  wallSeconds: number;
  /** First to last vendor request, s. */
  vendorSpanSeconds: number | null;
  /** Run start to the first vendor request, s. */
  startupSeconds: number | null;
  requests: {
    made: number;
    byPath: SimCounters['requests'];
    byStatus: SimCounters['byStatus'];
    minimum: RequestsNeeded;
    /** Pages the run fetched per its summary (retries not counted). */
    pagesInSummary: number | null;
    /** Requests beyond the pages the run fetched: retried attempts. */
    retries: number | null;
    /** Requests beyond the minimum. */
    extra: number;
  };
  boundSeconds: number;
  wallOverBound: number;
  throttled429: number;
  peakRatePerSecond: number;
  /** Vendor requests in each second of the run. */
  rate: {
    perSecond: number[];
    /** Mean over the whole seconds between the first and the last 2 s. */
    steadyMean: number;
    /** Seconds (same span) with fewer than 90% of the quota's requests. */
    secondsBelow90: number;
    steadySeconds: number;
  };
  /** Share of the host's CPU time (all cores) that was busy during the run. */
  hostCpuBusy: number | null;
  dynamo: {
    writeRequests: number;
    readRequests: number;
    itemsWritten: number;
    requests: Record<string, number>;
    /** inserted + updated per the run's summary. */
    itemsWrittenInSummary: number | null;
    itemsChanged: number;
    itemsChangedFromDatasetDiff: number;
    tableItems: Record<string, number>;
    expectedTableItems: Record<string, number>;
  };
  mutation: MutationReport | undefined;
  mutationCounts: Record<string, number> | undefined;
  workflows: HistoryStats & {
    largestShareOfLimit: number;
    largestShareOfWarning: number;
  };
  /** Per worker process: peak RSS so far (VmHWM), RSS at the end of the run, RSS when it became ready, CPU s in the run. */
  workers: {
    pid: number;
    peakRssMb: number;
    rssMb: number;
    readyRssMb: number;
    /** Peak RSS (VmHWM) when it became ready: what start-up alone (bundling, Worker.create) cost. */
    readyPeakRssMb: number;
    /** V8 heap used / total at the end of the run, MB. */
    heapUsedMb: number;
    heapTotalMb: number;
    cpuSeconds: number;
  }[];
  /** RSS of each worker process every 15 s, MB. */
  workerRssEvery15s: number[][];
  /** CPU seconds in the run: the stack's processes, and everything else on the host (other jobs sharing the machine). */
  cpuSeconds: {
    temporal: number | null;
    dynamo: number | null;
    bench: number;
    workers: number;
    otherProcesses: number | null;
  };
}

function diffStats(a: StoreStats, b: StoreStats): StoreStats {
  const requests: Record<string, number> = {};
  for (const [k, v] of Object.entries(b.requests)) {
    const d = v - (a.requests[k] ?? 0);
    if (d) requests[k] = d;
  }
  return {
    requests,
    writeRequests: b.writeRequests - a.writeRequests,
    readRequests: b.readRequests - a.readRequests,
    itemsWritten: b.itemsWritten - a.itemsWritten,
  };
}

async function countTableItems(clients: DynamoClients, names: TableNames): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [logical, physical] of Object.entries(names)) {
    let n = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await clients.raw.send(
        new ScanCommand({ TableName: physical, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      n += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    out[logical] = n;
  }
  return out;
}

/** ~1% of the sales change: half new, half corrected; plus a few transfers and branch changes. */
function mutationCounts(ds: Dataset) {
  let sales = 0;
  for (const list of ds.salesBySalesperson.values()) sales += list.length;
  const onePercent = Math.max(2, Math.round(sales * 0.01));
  return {
    newSales: Math.ceil(onePercent / 2),
    correctedSales: Math.floor(onePercent / 2),
    transfers: 2,
    branchChanges: 2,
    departures: 0,
  };
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0] ?? []), sep, ...rows.slice(1).map(line)].join('\n');
}

const n = (x: number) => x.toLocaleString('en-US');
const s1 = (x: number) => x.toFixed(1);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function rowsOf(r: RunResult): [string, string][] {
  const m = r.requests.minimum;
  const paths = r.requests.byPath;
  return [
    ['run status', r.ok ? 'completed' : `FAILED: ${r.error ?? ''}`],
    ['vendor requests made', n(r.requests.made)],
    [
      '  /branches, /employees, /sales',
      `${n(paths['/branches'])}, ${n(paths['/employees'])}, ${n(paths['/sales'])}`,
    ],
    ['requests needed (minimum)', n(m.total)],
    [
      '  lookups + employee pages + sales pages',
      `${n(m.branchLookups)} + ${n(m.employeePages)} + ${n(m.salesPages)}`,
    ],
    ['requests beyond minimum', n(r.requests.extra)],
    ['  of which retries', r.requests.retries === null ? 'n/a' : n(r.requests.retries)],
    ['wall time', `${s1(r.wallSeconds)} s`],
    ['  startup (run start -> 1st request)', r.startupSeconds === null ? 'n/a' : `${s1(r.startupSeconds)} s`],
    ['lower bound R/Q', `${s1(r.boundSeconds)} s`],
    ['wall / bound', r.wallOverBound.toFixed(3)],
    ['429s sent by the vendor', n(r.throttled429)],
    ['peak request rate (1 s window)', `${n(r.peakRatePerSecond)}/s`],
    [
      '  steady mean; seconds < 90% of quota',
      `${s1(r.rate.steadyMean)}/s; ${r.rate.secondsBelow90} of ${r.rate.steadySeconds}`,
    ],
    ['host CPU busy (all cores)', r.hostCpuBusy === null ? 'n/a' : pct(r.hostCpuBusy)],
    ['DynamoDB write requests', n(r.dynamo.writeRequests)],
    ['DynamoDB read requests', n(r.dynamo.readRequests)],
    ['items written', n(r.dynamo.itemsWritten)],
    ['items that changed', n(r.dynamo.itemsChanged)],
    [
      'table items (branches/salespersons/sales)',
      `${n(r.dynamo.tableItems.branches ?? 0)}/${n(r.dynamo.tableItems.salespersons ?? 0)}/${n(r.dynamo.tableItems.sales ?? 0)}`,
    ],
    [
      '  expected',
      `${n(r.dynamo.expectedTableItems.branches ?? 0)}/${n(r.dynamo.expectedTableItems.salespersons ?? 0)}/${n(r.dynamo.expectedTableItems.sales ?? 0)}`,
    ],
    ['workflow executions started', n(r.workflows.executions)],
    ['  continued as new', n(r.workflows.continuedAsNew)],
    ['largest history (events)', `${n(r.workflows.largest.events)} (${r.workflows.largest.type})`],
    [
      '  parent / branch / salesperson',
      ['salesSyncWorkflow', 'branchSyncWorkflow', 'salespersonSyncWorkflow']
        .map((t) => n(r.workflows.largestByType[t] ?? 0))
        .join(' / '),
    ],
    [
      '  share of 51,200 limit / 10,240 warning',
      `${pct(r.workflows.largestShareOfLimit)} / ${pct(r.workflows.largestShareOfWarning)}`,
    ],
    ['worker peak RSS (VmHWM)', r.workers.map((w) => `${s1(w.peakRssMb)} MB`).join(', ')],
    ['  peak RSS when ready (start-up alone)', r.workers.map((w) => `${s1(w.readyPeakRssMb)} MB`).join(', ')],
    [
      '  RSS when ready / at end of run',
      r.workers.map((w) => `${s1(w.readyRssMb)}/${s1(w.rssMb)} MB`).join(', '),
    ],
    [
      '  V8 heap used / total at end of run',
      r.workers.map((w) => `${s1(w.heapUsedMb)}/${s1(w.heapTotalMb)} MB`).join(', '),
    ],
    [
      'CPU s: temporal/dynamo/workers/bench/other',
      [
        r.cpuSeconds.temporal,
        r.cpuSeconds.dynamo,
        r.cpuSeconds.workers,
        r.cpuSeconds.bench,
        r.cpuSeconds.otherProcesses,
      ]
        .map((c) => (c === null ? 'n/a' : s1(c)))
        .join(' / '),
    ],
  ];
}

interface Target {
  name: string;
  /** null: not applicable to these settings (reported, not judged). */
  pass: boolean | null;
  detail: string;
}

function evaluate(settings: Settings, runs: RunResult[]): Target[] {
  const targets: Target[] = [];
  const by = (k: RunKind) => runs.find((r) => r.kind === k);
  for (const k of ['first', 'mutated'] as const) {
    const r = by(k);
    if (!r) continue;
    targets.push({
      name: `${k} run wall time <= ${WALL_FACTOR} x R/Q`,
      // The scale preset raises the quota past what this stack can dispatch: the bound says nothing there.
      pass: settings.scale ? null : r.ok && r.wallOverBound <= WALL_FACTOR,
      detail:
        `${s1(r.wallSeconds)} s vs bound ${s1(r.boundSeconds)} s (x${r.wallOverBound.toFixed(3)})` +
        (settings.scale ? '; not judged at the scale preset (quota raised to check history and memory)' : ''),
    });
  }
  targets.push({
    name: `zero 429s in every run (${settings.workers} worker${settings.workers > 1 ? 's' : ''})`,
    pass: runs.every((r) => r.throttled429 === 0),
    detail: runs.map((r) => `${r.kind}: ${r.throttled429}`).join(', '),
  });
  targets.push({
    name: 'requests made = minimum needed in every run',
    pass: runs.every((r) => r.requests.extra === 0),
    detail: runs
      .map(
        (r) =>
          `${r.kind}: ${n(r.requests.made)}/${n(r.requests.minimum.total)}` +
          (r.requests.extra ? ` (+${r.requests.extra}, retries ${r.requests.retries ?? '?'})` : ''),
      )
      .join(', '),
  });
  const second = by('second');
  if (second) {
    targets.push({
      name: 'second run: zero DynamoDB writes',
      pass: second.ok && second.dynamo.writeRequests === 0,
      detail: `${second.dynamo.writeRequests} write requests, ${second.dynamo.itemsWritten} items`,
    });
  }
  const mutated = by('mutated');
  if (mutated) {
    targets.push({
      name: 'mutated run: items written = items changed',
      pass: mutated.ok && mutated.dynamo.itemsWritten === mutated.dynamo.itemsChanged,
      detail: `${mutated.dynamo.itemsWritten} written, ${mutated.dynamo.itemsChanged} changed`,
    });
  }
  const largest = Math.max(...runs.map((r) => r.workflows.largest.events));
  targets.push({
    name: `no workflow history above ${n(TEMPORAL_HISTORY_WARNING)} events (at ${settings.branches} x ${settings.salespersons})`,
    pass: largest <= TEMPORAL_HISTORY_WARNING,
    detail: `largest ${n(largest)} events`,
  });
  const peak = Math.max(...runs.flatMap((r) => r.workers.map((w) => w.peakRssMb)));
  targets.push({
    name: `worker peak memory < ${MEMORY_LIMIT_MB} MB`,
    pass: peak < MEMORY_LIMIT_MB,
    detail: `${s1(peak)} MB`,
  });
  return targets;
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

let interrupted = false;

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
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  // Everything started is registered here and stopped in reverse order, once.
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopping ??= (async () => {
      for (const s of stops.reverse()) {
        try {
          await s.stop();
        } catch (err) {
          console.error(`stopping ${s.name}: ${(err as Error).message}`);
        }
      }
    })();
    return stopping;
  };
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted = true;
    console.error(`\n${sig}: stopping everything the benchmark started...`);
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const mach = machine();
    const employeesPerBranch = cfg.salespersons * 2;
    console.log(
      `bench: ${cfg.branches} branches x ${cfg.salespersons} salespersons (${employeesPerBranch} employees) x ${cfg.sales} sales, ` +
        `page size ${cfg.pageSize}, quota ${cfg.quota}/s, latency ${cfg.latencyMs} ms, ${cfg.workers} worker process(es), runs: ${cfg.runs.join(', ')}`,
    );
    const experiments = [
      cfg.plainPayloads ? 'payloads not encrypted' : '',
      cfg.quotaHeadroom !== undefined ? `quota headroom ${cfg.quotaHeadroom}%` : '',
      cfg.workerNodeOptions !== undefined
        ? `worker NODE_OPTIONS=${JSON.stringify(cfg.workerNodeOptions)}`
        : '',
      ...cfg.temporalDynamicConfig.map((kv) => `Temporal dynamic config ${kv}`),
      cfg.branchConcurrency ? `branch concurrency ${cfg.branchConcurrency}` : '',
      cfg.salespersonConcurrency ? `salesperson concurrency ${cfg.salespersonConcurrency}` : '',
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
    stops.push({ name: 'simulator', stop: () => sim.stop() });
    const dynamo = await startDynamoLocal({ port: await freePort() });
    stops.push(dynamo);
    const temporal = await startTemporalDevServer({
      port: await freePort(),
      uiPort: await freePort(),
      dynamicConfig: cfg.temporalDynamicConfig,
    });
    stops.push(temporal);
    const started: RunningProcess[] = [dynamo, temporal];
    console.log(
      `stack: simulator ${sim.url}, DynamoDB Local ${dynamo.endpoint}, Temporal ${temporal.address} (UI ${temporal.uiUrl})`,
    );

    const prefix = `bench-${Date.now().toString(36)}-`;
    const suffix = `-bench-${Date.now().toString(36)}`;
    const clients = createDynamoClients({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tablePrefix: prefix,
      tableSuffix: '',
    });
    stops.push({ name: 'dynamodb client', stop: () => Promise.resolve(clients.raw.destroy()) });
    const names = tableNames(prefix, '');
    await ensureTables(clients.raw, names);

    // Payloads are encrypted as the main job does (a fresh key per benchmark), unless --plain-payloads.
    const key = cfg.plainPayloads ? undefined : randomBytes(32).toString('base64');
    const codec = loadCodecConfig(key ? { PAYLOAD_ENCRYPTION_KEY: key } : {});
    const env: NodeJS.ProcessEnv = {
      ...process.env,
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
      ...(cfg.quotaHeadroom !== undefined
        ? { VENDOR_QUOTA_HEADROOM_PERCENT: String(cfg.quotaHeadroom) }
        : {}),
      VENDOR_PAGE_SIZE: String(cfg.pageSize),
      TASK_QUEUE_SUFFIX: suffix,
      ...(cfg.workerNodeOptions !== undefined ? { NODE_OPTIONS: cfg.workerNodeOptions } : {}),
    };
    for (const k of [
      'VENDOR_API_KEY_FILE',
      'TEMPORAL_API_KEY',
      'TEMPORAL_TLS_CERT_PATH',
      'TEMPORAL_TLS_KEY_PATH',
      'PAYLOAD_ENCRYPTION_KEY',
      'PAYLOAD_ENCRYPTION_KEY_ID',
      'PAYLOAD_DECRYPTION_KEYS',
    ])
      delete env[k];
    if (key) env.PAYLOAD_ENCRYPTION_KEY = key;
    const workers: WorkerProc[] = [];
    stops.push({
      name: 'workers',
      stop: async () => {
        await Promise.all(workers.map((w) => stopChild(w.child, 20_000)));
      },
    });
    // Build the workflow bundle once, before the workers start (as a deployment does with
    // `npm run bundle`): the workers then load it by path.
    await workflowBundle();
    const spawning = Array.from({ length: cfg.workers }, () => spawnWorker(env));
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
    console.log(`workers: ${workers.map((w) => `pid ${w.pid}`).join(', ')} polling *${suffix}`);

    const connection = await Connection.connect({ address: temporal.address });
    stops.push({ name: 'temporal client', stop: () => connection.close() });
    const client = new Client({ connection, namespace: 'default', dataConverter: dataConverterFor(codec) });
    console.log(`payloads: ${describeCodecConfig(codec)}`);
    const queues = taskQueues(suffix);
    const branchNames = sim.dataset.branches.map((b) => b.branch_name);

    const runs: RunResult[] = [];
    let before = new Map<string, string>();
    for (const kind of cfg.runs) {
      if (interrupted) break;
      let mutation: MutationReport | undefined;
      let counts: ReturnType<typeof mutationCounts> | undefined;
      let changedFromReport: number | undefined;
      if (kind === 'mutated') {
        counts = mutationCounts(sim.dataset);
        mutation = sim.mutate(counts);
        changedFromReport =
          mutation.newSales.length +
          mutation.correctedSales.length +
          mutation.transfers.length +
          mutation.branchChanges.length;
      }
      const expected = expectedItems(sim.dataset, branchNames);
      const changedDiff = changedItems(before, expected);
      const itemsChanged =
        kind === 'first' ? expected.size : kind === 'second' ? 0 : (changedFromReport ?? 0);
      const minimum = requestsNeeded(sim.dataset, branchNames, cfg.pageSize);

      console.log(
        `\n=== ${kind} run: ${n(minimum.total)} requests needed, bound ${s1(minimum.total / cfg.quota)} s ===`,
      );
      if (mutation)
        console.log(
          `mutation: ${mutation.newSales.length} new sales, ${mutation.correctedSales.length} corrected sales, ` +
            `${mutation.transfers.length} transfers, ${mutation.branchChanges.length} branch records changed -> ${itemsChanged} items`,
        );
      const statsBefore = await Promise.all(workers.map(workerStats));
      const cpuBefore = {
        temporal: cpuSeconds(temporal.child.pid),
        dynamo: cpuSeconds(dynamo.child.pid),
        bench: process.cpuUsage(),
      };
      sim.resetCounters();
      const workflowId = `bench-${kind}-${Date.now()}`;
      const startedAt = new Date();
      const t0 = performance.now();
      const handle = await startRun(
        client,
        queues,
        {
          branches: branchNames,
          window: 'full',
          ...(cfg.branchConcurrency ? { branchConcurrency: cfg.branchConcurrency } : {}),
          ...(cfg.salespersonConcurrency ? { salespersonConcurrency: cfg.salespersonConcurrency } : {}),
        },
        workflowId,
      );
      const hostBefore = hostCpu();
      // Requests per second as the simulator counted them, and a progress line every 15 s.
      const timeline: number[] = [];
      const rssTimeline: number[][] = [];
      let lastTotal = 0;
      const sampler = setInterval(() => {
        const c = sim.counters();
        timeline.push(c.total - lastTotal);
        lastTotal = c.total;
        if (timeline.length % 15 === 0) {
          const rss = workers.map((w) => s1((procStatusKb(w.pid, 'VmRSS') ?? 0) / 1024));
          rssTimeline.push(rss.map(Number));
          console.log(
            `  ${timeline.length} s: ${n(c.total)}/${n(minimum.total)} requests, ${c.throttled429} x 429, ` +
              `peak ${c.peakRatePerSecond}/s, worker RSS ${rss.join('/')} MB`,
          );
        }
      }, 1000);
      let outcome: Awaited<ReturnType<typeof runOutcome>>;
      try {
        outcome = await runOutcome(handle);
      } finally {
        clearInterval(sampler);
      }
      const hostAfter = hostCpu();
      const wallSeconds = (performance.now() - t0) / 1000;
      const endedAt = new Date();
      const c = sim.counters();
      const statsAfter = await Promise.all(workers.map(workerStats));
      const cpuAfter = {
        temporal: cpuSeconds(temporal.child.pid),
        dynamo: cpuSeconds(dynamo.child.pid),
        bench: process.cpuUsage(cpuBefore.bench),
      };
      let store = emptyDiff();
      let workerCpu = 0;
      const workerRows = statsAfter.map((after, i) => {
        const b = statsBefore[i] ?? after;
        store = addStats(store, diffStats(b.store, after.store));
        const cpu = (after.cpuUserUs + after.cpuSystemUs - b.cpuUserUs - b.cpuSystemUs) / 1e6;
        workerCpu += cpu;
        const fromProc = procStatusKb(after.pid, 'VmHWM');
        const kb = Math.max(after.maxRssKb, after.vmHwmKb ?? 0, fromProc ?? 0);
        const ready = workers[i]?.ready;
        return {
          pid: after.pid,
          peakRssMb: kb / 1024,
          rssMb: (after.vmRssKb ?? 0) / 1024,
          readyRssMb: (ready?.vmRssKb ?? 0) / 1024,
          readyPeakRssMb: (ready?.vmHwmKb ?? 0) / 1024,
          heapUsedMb: after.memory.heapUsed / 2 ** 20,
          heapTotalMb: after.memory.heapTotal / 2 ** 20,
          cpuSeconds: cpu,
        };
      });
      const history = await historyStats(
        client,
        new Date(startedAt.getTime() - 1000).toISOString(),
        new Date(endedAt.getTime() + 1000).toISOString(),
        workflowId,
      );
      const tableItems = await countTableItems(clients, names);
      const summary: SyncSummary | undefined = outcome.summary;
      const bound = minimum.total / cfg.quota;
      const result: RunResult = {
        kind,
        workflowId,
        ok: outcome.ok,
        error: outcome.error,
        summary: summary ? describeSummary(summary) : undefined,
        wallSeconds,
        vendorSpanSeconds:
          c.firstRequestAt !== null && c.lastRequestAt !== null
            ? (c.lastRequestAt - c.firstRequestAt) / 1000
            : null,
        startupSeconds: c.firstRequestAt !== null ? (c.firstRequestAt - startedAt.getTime()) / 1000 : null,
        requests: {
          made: c.total,
          byPath: c.requests,
          byStatus: c.byStatus,
          minimum,
          pagesInSummary: summary?.pages ?? null,
          retries: summary ? c.total - summary.pages : null,
          extra: c.total - minimum.total,
        },
        boundSeconds: bound,
        wallOverBound: wallSeconds / bound,
        throttled429: c.throttled429,
        peakRatePerSecond: c.peakRatePerSecond,
        rate: steadyRate(timeline, cfg.quota),
        hostCpuBusy:
          hostBefore && hostAfter
            ? 1 - (hostAfter.idle - hostBefore.idle) / Math.max(1, hostAfter.total - hostBefore.total)
            : null,
        dynamo: {
          writeRequests: store.writeRequests,
          readRequests: store.readRequests,
          itemsWritten: store.itemsWritten,
          requests: store.requests,
          itemsWrittenInSummary: summary ? itemsWritten(summary.counts) : null,
          itemsChanged,
          itemsChangedFromDatasetDiff: changedDiff,
          tableItems,
          expectedTableItems: { ...countByTable(expected), quarantine: 0 },
        },
        mutation: mutation ? { ...mutation } : undefined,
        mutationCounts: counts,
        workflows: {
          ...history,
          largestShareOfLimit: history.largest.events / TEMPORAL_HISTORY_LIMIT,
          largestShareOfWarning: history.largest.events / TEMPORAL_HISTORY_WARNING,
        },
        workers: workerRows,
        workerRssEvery15s: rssTimeline,
        cpuSeconds: {
          temporal:
            cpuAfter.temporal !== null && cpuBefore.temporal !== null
              ? cpuAfter.temporal - cpuBefore.temporal
              : null,
          dynamo:
            cpuAfter.dynamo !== null && cpuBefore.dynamo !== null ? cpuAfter.dynamo - cpuBefore.dynamo : null,
          bench: (cpuAfter.bench.user + cpuAfter.bench.system) / 1e6,
          workers: workerCpu,
          otherProcesses: null,
        },
      };
      if (hostBefore && hostAfter) {
        const c2 = result.cpuSeconds;
        const busy = (hostAfter.total - hostAfter.idle - (hostBefore.total - hostBefore.idle)) / CLK_TCK;
        c2.otherProcesses = Math.max(0, busy - (c2.temporal ?? 0) - (c2.dynamo ?? 0) - c2.bench - c2.workers);
      }
      runs.push(result);
      before = expected;
      console.log(table([['metric', kind], ...rowsOf(result)]));
      if (result.summary) console.log(`summary: ${result.summary}`);
      if (itemsChanged !== changedDiff && kind !== 'first')
        console.log(
          `note: MutationReport says ${itemsChanged} items changed, the dataset diff says ${changedDiff}`,
        );
      if (!outcome.ok) console.log(`run failed: ${outcome.error ?? ''}`);
    }

    const targets = evaluate(cfg, runs);
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
    console.log(`\n=== targets${scope} ===`);
    for (const t of targets)
      console.log(`${t.pass === null ? 'N/A ' : t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${t.detail}`);

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

function emptyDiff(): StoreStats {
  return { requests: {}, writeRequests: 0, readRequests: 0, itemsWritten: 0 };
}

function addStats(a: StoreStats, b: StoreStats): StoreStats {
  const requests = { ...a.requests };
  for (const [k, v] of Object.entries(b.requests)) requests[k] = (requests[k] ?? 0) + v;
  return {
    requests,
    writeRequests: a.writeRequests + b.writeRequests,
    readRequests: a.readRequests + b.readRequests,
    itemsWritten: a.itemsWritten + b.itemsWritten,
  };
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
