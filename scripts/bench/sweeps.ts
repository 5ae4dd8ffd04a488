/**
 * What the lookback sweeps cost in vendor requests per day, next to the hourly runs alone,
 * computed from a dataset with src/sim/expected.ts requestsNeeded (the fewest requests a run
 * over a window needs): no vendor traffic. `npm run bench -- --sweep-cost` prints it, and so
 * does the end of every benchmark (BENCHMARKS.md, "Sweeps: what they cost").
 */
import { loadSweepSettings, loadSyncDefaults } from '../../src/config/sync.js';
import { Dataset } from '../../src/sim/index.js';
import { type SalesWindow, requestsNeeded } from '../../src/sim/expected.js';
import { n, pct, table } from './report.js';
import type { Settings } from './settings.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The schedules: the hourly run's window, and the sweeps. The defaults are the settings'
 * (docs/configuration.md: SWEEP_LOOKBACK_DAYS 7, SWEEP_LOOKBACK_EVERY_HOURS 24,
 * SWEEP_FULL_EVERY_DAYS 7; 0 days switches a sweep off).
 */
export interface SweepPlan {
  hourlyWindowHours: number;
  lookbackDays: number;
  lookbackEveryHours: number;
  fullEveryDays: number;
}

/** The default schedules: the settings' defaults, read from no environment. */
export const DEFAULT_SWEEP_PLAN: Readonly<SweepPlan> = {
  hourlyWindowHours: loadSyncDefaults({}).windowHours,
  ...loadSweepSettings({}),
};

/** Vendor requests of one run of each kind, and per day. */
export interface SweepCost {
  /** Requests of one hourly run (its trailing window). */
  hourlyRun: number;
  /** Requests of one lookback sweep (0 when off). */
  lookbackSweep: number;
  /** Requests of one full sweep (0 when off). */
  fullSweep: number;
  perDay: { hourly: number; lookback: number; full: number; total: number };
  /** (lookback + full per day) / hourly per day. */
  sweepsAdd: number;
}

/**
 * The requests per day of `plan` for a sync of `branchNames` at `pageSize`, with every run's
 * window ending at `now` (the data as it is now: the steady state, without first loads).
 */
export function sweepCost(
  ds: Dataset,
  branchNames: readonly string[],
  pageSize: number,
  now: number,
  plan: SweepPlan = DEFAULT_SWEEP_PLAN,
): SweepCost {
  const trailing = (ms: number): SalesWindow => ({
    from: new Date(now - ms).toISOString(),
    to: new Date(now).toISOString(),
  });
  const hourlyRun = requestsNeeded(
    ds,
    branchNames,
    pageSize,
    trailing(plan.hourlyWindowHours * HOUR_MS),
  ).total;
  const lookbackSweep =
    plan.lookbackDays > 0
      ? requestsNeeded(ds, branchNames, pageSize, trailing(plan.lookbackDays * DAY_MS)).total
      : 0;
  const fullSweep = plan.fullEveryDays > 0 ? requestsNeeded(ds, branchNames, pageSize).total : 0;
  const hourly = 24 * hourlyRun;
  const lookback = lookbackSweep > 0 ? (24 / plan.lookbackEveryHours) * lookbackSweep : 0;
  const full = fullSweep > 0 ? fullSweep / plan.fullEveryDays : 0;
  return {
    hourlyRun,
    lookbackSweep,
    fullSweep,
    perDay: { hourly, lookback, full, total: hourly + lookback + full },
    sweepsAdd: (lookback + full) / hourly,
  };
}

/** The benchmark's dataset for `cfg` (as scripts/bench.ts serves it), its sales spread over `spanDays` when given. */
export function benchDataset(cfg: Settings, anchorTime: number, spanDays?: number): Dataset {
  return Dataset.generate({
    seed: cfg.seed,
    branches: cfg.branches,
    employeesPerBranch: cfg.salespersons * 2,
    salespersonShare: 0.5,
    salesPerSalesperson: cfg.sales,
    anchorTime,
    ...(spanDays === undefined ? {} : { salesSpanHours: spanDays * 24 }),
  });
}

/** How long the benchmark's sales history is in the rows of sweepCostReport, days (undefined: the generator's default, 20 h). */
export const SWEEP_COST_SPANS: readonly (number | undefined)[] = [undefined, 30, 90, 365];

/**
 * The table of vendor requests per day for the benchmark's dataset: as generated (its sales
 * in the 20 h before now) and with the same sales spread over longer histories, where a
 * sweep reads more pages than an hourly run.
 */
export function sweepCostReport(
  cfg: Settings,
  now = Math.floor(Date.now() / HOUR_MS) * HOUR_MS,
): { text: string; asBenchmarked: SweepCost } {
  const rows = [
    ['sales history', '24 h run', '7-day sweep', 'full sweep', 'hourly/day', '+ sweeps/day', 'sweeps add'],
  ];
  const costs = SWEEP_COST_SPANS.map((span) => {
    const ds = benchDataset(cfg, now, span);
    return {
      span,
      c: sweepCost(
        ds,
        ds.branches.map((b) => b.branch_name),
        cfg.pageSize,
        now,
      ),
    };
  });
  for (const { span, c } of costs) {
    rows.push([
      span === undefined ? 'as benchmarked (20 h)' : `spread over ${span} days`,
      n(c.hourlyRun),
      n(c.lookbackSweep),
      n(c.fullSweep),
      n(c.perDay.hourly),
      n(Math.round(c.perDay.lookback + c.perDay.full)),
      pct(c.sweepsAdd),
    ]);
  }
  const text = [
    `vendor requests per day: 24 hourly runs (24 h window) + a daily 7-day lookback sweep + a weekly full sweep`,
    `(${cfg.branches} branches x ${cfg.salespersons} salespersons x ${cfg.sales} sales, page size ${cfg.pageSize}; computed, no vendor traffic)`,
    table(rows),
  ].join('\n');
  // The first span is the benchmark's own dataset (SWEEP_COST_SPANS starts with undefined).
  return { text, asBenchmarked: (costs[0] as { c: SweepCost }).c };
}
