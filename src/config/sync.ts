/** What a run syncs by default: SYNC_BRANCHES, SYNC_WINDOW_HOURS and the two concurrencies. */
import { DEFAULT_BRANCHES } from '../shared/branches.js';
import { DEFAULT_BRANCH_CONCURRENCY, DEFAULT_SALESPERSON_CONCURRENCY } from '../shared/concurrency.js';
import { ConfigError } from '../shared/errors.js';
import { type Env, int } from './env.js';

/** What a run syncs by default. */
export interface SyncDefaults {
  branches: string[] | 'all';
  windowHours: number;
  branchConcurrency: number;
  salespersonConcurrency: number;
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
  };
}
