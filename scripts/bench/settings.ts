/**
 * The benchmark's settings: its command line (parseSettings, HELP), the defaults the targets
 * are stated for, the scale preset, and the targets' thresholds.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BRANCH_CONCURRENCY, DEFAULT_SALESPERSON_CONCURRENCY } from '../../src/shared/concurrency.js';
import { ROOT } from '../stack.js';

/** Temporal's hard limit and warning threshold of a workflow history, in events. */
export const TEMPORAL_HISTORY_LIMIT = 51_200;
export const TEMPORAL_HISTORY_WARNING = 10_240;
export const WALL_FACTOR = 1.15;
export const MEMORY_LIMIT_MB = 400;

export const RUN_KINDS = ['first', 'second', 'mutated'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export const DEFAULTS = {
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
export const SCALE = { branches: 200, salespersons: 50, sales: 1, quota: 200 };

export const HELP = `usage: npm run bench -- [options]

Starts Temporal (dev server, in memory), DynamoDB Local (in memory) and the vendor
simulator on free ports, runs worker processes, and measures three full runs:
  first    into empty tables
  second   nothing changed (must write nothing)
  mutated  after ~1% of the sales changed (plus 2 transfers and 2 branch changes)
Prints a table per run and PASS/FAIL per target; writes the figures to a JSON file.
With the landing zone on, the change feed runs too (PostgreSQL, scripts/bench/feed.ts): it
starts after the first run (its changes are the backlog: the consumer's throughput), then
follows the later runs live (freshness from DynamoDB write to PostgreSQL row, p50 and p95).

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
                          override the workflow defaults (${DEFAULT_BRANCH_CONCURRENCY} and ${DEFAULT_SALESPERSON_CONCURRENCY})
Experiments
  --plain-payloads        no payload encryption (by default payloads are encrypted as in npm start)
  --no-landing            workers run with LANDING=off (by default every answer lands in the
                          local object server, as in npm start): the cost of landing, by difference
  --no-feed               no change feed (by default it runs from the end of the first run on,
                          on the same CPUs as the sync: its cost, by difference)
  --quota-headroom P      VENDOR_QUOTA_HEADROOM_PERCENT of the workers (default 10): the task
                          queue dispatches at quota x (1 - P/100); the bound stays R/quota
  --worker-node-options=S NODE_OPTIONS of the worker processes (note the "="; the benchmark's own
                          NODE_OPTIONS are not passed on), e.g.
                          --worker-node-options=--max-old-space-size=320
  --temporal-dynamic-config KEY=VALUE
                          dynamic config of the dev server (repeatable), e.g.
                          matching.numTaskqueueReadPartitions=4 (the default is 1: see stack.ts)
Benchmark
  --runs LIST             comma-separated subset of first,second,mutated (default all; first is
                          always needed, it fills the tables)
  --scale                 the history/scale check: ${SCALE.branches} branches x ${SCALE.salespersons} salespersons,
                          ${SCALE.sales} sale each, quota ${SCALE.quota}/s, --runs first (explicit flags still win)
  --profile DIR           V8 CPU profiles of the workers (node --cpu-prof, one file per thread)
                          into DIR, written when they stop; open them in Chrome DevTools
  --out FILE              JSON results (default bench-results/bench-<timestamp>.json)
  --sweep-cost            print the lookback sweeps' vendor requests per day next to the hourly
                          runs', computed from the dataset (no stack, no vendor traffic), and exit;
                          every benchmark prints it at its end too
  --help                  this text

Targets (at the default settings): first and mutated runs take at most ${WALL_FACTOR} x R/Q
(R: requests needed, Q: quota); no 429 in any run; requests made = requests needed; the
second run makes no DynamoDB write; the mutated run writes exactly the items that changed;
no workflow history above ${TEMPORAL_HISTORY_WARNING.toLocaleString('en-US')} events; every worker under ${MEMORY_LIMIT_MB} MB peak RSS.`;

export class UsageError extends Error {}

/** Everything one benchmark invocation is configured with. */
export interface Settings {
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
  /** Workers run with LANDING=off (the landing zone's cost is the difference to a default run). */
  noLanding: boolean;
  /** No change feed (it runs during the second and mutated runs otherwise, on the same CPUs). */
  noFeed: boolean;
  /** VENDOR_QUOTA_HEADROOM_PERCENT of the workers when it differs from the default. */
  quotaHeadroom: number | undefined;
  /** NODE_OPTIONS of the worker processes (e.g. --max-old-space-size=256). */
  workerNodeOptions: string | undefined;
  /** Extra `--dynamic-config-value KEY=VALUE` for the Temporal dev server. */
  temporalDynamicConfig: string[];
  /** Folder for the workers' V8 CPU profiles (--cpu-prof), when set. */
  profile: string | undefined;
  out: string;
  /** Only print the sweeps' cost per day (scripts/bench/sweeps.ts) and exit. */
  sweepCost: boolean;
}

/** The benchmark's command-line options (`npm run bench -- --help` describes them). */
const OPTIONS = {
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
  'no-landing': { type: 'boolean' },
  'no-feed': { type: 'boolean' },
  'worker-node-options': { type: 'string' },
  'quota-headroom': { type: 'string' },
  'temporal-dynamic-config': { type: 'string', multiple: true },
  profile: { type: 'string' },
  out: { type: 'string' },
  'sweep-cost': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A whole number option from `min` to `max`, or `fallback` when not given. */
function intOption(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} ${JSON.stringify(raw)}: expected a whole number from ${min} to ${max}`);
  return n;
}

/** --runs: the runs to measure, in their fixed order; `first` always (it fills the tables). */
function parseRuns(raw: string | undefined, scale: boolean): RunKind[] {
  const runs = (raw ?? (scale ? 'first' : RUN_KINDS.join(',')))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const r of runs)
    if (!(RUN_KINDS as readonly string[]).includes(r))
      throw new UsageError(`--runs: unknown run ${JSON.stringify(r)}; expected first, second, mutated`);
  if (!runs.includes('first')) throw new UsageError('--runs must include first (it fills the tables)');
  return RUN_KINDS.filter((k) => runs.includes(k));
}

/** --temporal-dynamic-config KEY=VALUE, each checked. */
function parseDynamicConfig(values: string[]): string[] {
  return values.map((kv) => {
    if (!/^[A-Za-z0-9_.]+=\S+$/.test(kv))
      throw new UsageError(`--temporal-dynamic-config ${JSON.stringify(kv)}: expected KEY=VALUE`);
    return kv;
  });
}

/** The benchmark's settings from its command line, or 'help'. */
export function parseSettings(argv: string[]): Settings | 'help' {
  const { values } = parseArgs({ args: argv, strict: true, options: OPTIONS });
  if (values.help) return 'help';
  const scale = values.scale ?? false;
  const optional = (name: string, raw: string | undefined): number | undefined =>
    raw === undefined ? undefined : intOption(name, raw, 0, 1, 500);
  const runs = parseRuns(values.runs, scale);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  return {
    branches: intOption('branches', values.branches, scale ? SCALE.branches : DEFAULTS.branches, 1, 100_000),
    salespersons: intOption(
      'salespersons',
      values.salespersons,
      scale ? SCALE.salespersons : DEFAULTS.salespersons,
      1,
      100_000,
    ),
    sales: intOption('sales', values.sales, scale ? SCALE.sales : DEFAULTS.sales, 0, 1_000_000),
    seed: intOption('seed', values.seed, DEFAULTS.seed, 0, 2 ** 31),
    pageSize: intOption('page-size', values['page-size'], DEFAULTS.pageSize, 1, 500),
    quota: intOption('quota', values.quota, scale ? SCALE.quota : DEFAULTS.quota, 1, 100_000),
    latencyMs: intOption('latency-ms', values['latency-ms'], DEFAULTS.latencyMs, 0, 60_000),
    workers: intOption('workers', values.workers, DEFAULTS.workers, 1, 64),
    branchConcurrency: optional('branch-concurrency', values['branch-concurrency']),
    salespersonConcurrency: optional('salesperson-concurrency', values['salesperson-concurrency']),
    runs,
    scale,
    plainPayloads: values['plain-payloads'] ?? false,
    noLanding: values['no-landing'] ?? false,
    noFeed: values['no-feed'] ?? false,
    workerNodeOptions: values['worker-node-options'],
    quotaHeadroom:
      values['quota-headroom'] === undefined
        ? undefined
        : intOption('quota-headroom', values['quota-headroom'], 0, 0, 50),
    temporalDynamicConfig: parseDynamicConfig(values['temporal-dynamic-config'] ?? []),
    profile: values.profile === undefined ? undefined : resolve(values.profile),
    out: resolve(values.out ?? join(ROOT, 'bench-results', `bench-${stamp}.json`)),
    sweepCost: values['sweep-cost'] ?? false,
  };
}

/** True when the settings are the default benchmark (targets are stated for these). */
export function isDefault(s: Settings): boolean {
  return (
    s.branchConcurrency === undefined &&
    s.salespersonConcurrency === undefined &&
    s.workerNodeOptions === undefined &&
    !s.plainPayloads &&
    !s.noLanding &&
    !s.noFeed &&
    s.quotaHeadroom === undefined &&
    s.temporalDynamicConfig.length === 0 &&
    s.profile === undefined &&
    s.branches === DEFAULTS.branches &&
    s.salespersons === DEFAULTS.salespersons &&
    s.sales === DEFAULTS.sales &&
    s.pageSize === DEFAULTS.pageSize &&
    s.quota === DEFAULTS.quota &&
    s.latencyMs === DEFAULTS.latencyMs
  );
}
