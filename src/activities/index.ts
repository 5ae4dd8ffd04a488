/**
 * Activities: the side effects of the sync. Each activity attempt makes exactly one vendor
 * request (so the vendor task queue's rate limit is the vendor's quota), validates what
 * came back, and writes through the store. Only keys, cursors and counts go back to the
 * workflow: records never enter workflow history. One file per group: branches, employees,
 * sales; page.ts and answer.ts hold what every page shares.
 */
import { branchActivities } from './branches.js';
import type { ActivityDeps } from './deps.js';
import { employeeActivities } from './employees.js';
import { salesActivities } from './sales.js';
import type { Activities } from './types.js';

export { MIN_RATE_LIMIT_DELAY_MS, toFailure } from './failures.js';
export type { ActivityDeps } from './deps.js';
/** The contracts (./types.ts), for the modules and tests that build or call the activities. */
export type {
  Activities,
  BranchRef,
  ListBranchesPageInput,
  ListBranchesPageOutput,
  LookupBranchInput,
  LookupBranchOutput,
  RunLanding,
  SyncEmployeesPageInput,
  SyncEmployeesPageOutput,
  SyncSalesPageInput,
  SyncSalesPageOutput,
  SyncWindow,
} from './types.js';

/** Builds the activities around their dependencies (the worker builds them once). */
export function createActivities(deps: ActivityDeps): Activities {
  return { ...branchActivities(deps), ...employeeActivities(deps), ...salesActivities(deps) };
}
