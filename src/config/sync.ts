/**
 * What a run syncs by default (SYNC_BRANCHES, SYNC_WINDOW_HOURS, the two concurrencies, the
 * watermark overlap and the void guard) and the lookback sweeps' schedules (SWEEP_*).
 */
import { DEFAULT_BRANCHES } from '../shared/branches.js';
import { DEFAULT_VOID_GUARD_PERCENT, DEFAULT_WATERMARK_OVERLAP_MINUTES } from '../shared/completeness.js';
import { DEFAULT_BRANCH_CONCURRENCY, DEFAULT_SALESPERSON_CONCURRENCY } from '../shared/concurrency.js';
import { ConfigError } from '../shared/errors.js';
import { type Env, int } from './env.js';

/** What a run syncs by default. */
export interface SyncDefaults {
  branches: string[] | 'all';
  windowHours: number;
  branchConcurrency: number;
  salespersonConcurrency: number;
  /** Minutes a window reaching back to a branch's watermark starts before it. */
  watermarkOverlapMinutes: number;
  /** Most a complete listing may void, in percent of the window's stored sales. */
  voidGuardPercent: number;
}

/** Parses a branch list setting: comma-separated exact names, or `all` for every branch the vendor lists. */
export function parseBranchList(raw: string, name = 'SYNC_BRANCHES'): string[] | 'all' {
  if (raw.trim().toLowerCase() === 'all') return 'all';
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new ConfigError(`${name} is empty: expected comma-separated branch names or "all".`);
  return [...new Set(names)];
}

/** Bounds of SYNC_WINDOW_HOURS (and the CLI's --window-hours): 1 hour to a leap year. */
export const SYNC_WINDOW_HOURS_RANGE = { min: 1, max: 24 * 366 } as const;

/** What a run syncs by default. */
export function loadSyncDefaults(e: Env = process.env): SyncDefaults {
  return {
    branches: e.SYNC_BRANCHES?.trim() ? parseBranchList(e.SYNC_BRANCHES) : [...DEFAULT_BRANCHES],
    windowHours: int(e, 'SYNC_WINDOW_HOURS', 24, SYNC_WINDOW_HOURS_RANGE.min, SYNC_WINDOW_HOURS_RANGE.max),
    branchConcurrency: int(e, 'SYNC_BRANCH_CONCURRENCY', DEFAULT_BRANCH_CONCURRENCY, 1, 500),
    salespersonConcurrency: int(e, 'SYNC_SALESPERSON_CONCURRENCY', DEFAULT_SALESPERSON_CONCURRENCY, 1, 500),
    watermarkOverlapMinutes: int(
      e,
      'WATERMARK_OVERLAP_MINUTES',
      DEFAULT_WATERMARK_OVERLAP_MINUTES,
      0,
      24 * 60,
    ),
    voidGuardPercent: int(e, 'VOID_GUARD_PERCENT', DEFAULT_VOID_GUARD_PERCENT, 0, 100),
  };
}

/** The lookback sweeps' schedules, beside the hourly one (0: that sweep is off). */
export interface SweepSettings {
  /** Days the lookback sweep re-reads (0: no lookback sweep). */
  lookbackDays: number;
  /** Every how many hours the lookback sweep runs. */
  lookbackEveryHours: number;
  /** Every how many days the full sweep (every sale) runs (0: no full sweep). */
  fullEveryDays: number;
}

/** SWEEP_LOOKBACK_DAYS (7), SWEEP_LOOKBACK_EVERY_HOURS (24) and SWEEP_FULL_EVERY_DAYS (7). */
export function loadSweepSettings(e: Env = process.env): SweepSettings {
  return {
    lookbackDays: int(e, 'SWEEP_LOOKBACK_DAYS', 7, 0, 366),
    lookbackEveryHours: int(e, 'SWEEP_LOOKBACK_EVERY_HOURS', 24, 1, 24 * 7),
    fullEveryDays: int(e, 'SWEEP_FULL_EVERY_DAYS', 7, 0, 366),
  };
}
