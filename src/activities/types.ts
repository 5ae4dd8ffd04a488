/**
 * What the sync activities take and give back. Only keys, cursors and counts: records never
 * enter workflow history.
 */
import type { Counts } from '../shared/summary.js';
import type { Landing } from '../landing/index.js';
import type { Store } from '../store/index.js';
import type { VendorClient } from '../vendor-api/client.js';
import type { RunLanding } from './attempt.js';

/** What the activities need, built once per worker process. */
export interface ActivityDeps {
  vendor: VendorClient;
  store: Store;
  /** Page size asked of the vendor for every list. */
  pageSize: number;
  /** The raw landing zone; null when LANDING=off (then nothing lands and nothing can be replayed). */
  landing: Landing | null;
}

/** A branch as the workflows know it: key and name only. Ids are decimal digits (they may exceed 2^53). */
export interface BranchRef {
  id: string;
  name: string;
}

/** Input of `lookupBranch`. */
export interface LookupBranchInput {
  landing: RunLanding;
  name: string;
}
/** Output of `lookupBranch`. */
export interface LookupBranchOutput {
  /** Null when the vendor has no branch of that exact name. */
  branch: BranchRef | null;
  counts: Partial<Counts>;
}

/** Input of `listBranchesPage`. */
export interface ListBranchesPageInput {
  landing: RunLanding;
  pageToken: string | null;
}
/** Output of `listBranchesPage`. */
export interface ListBranchesPageOutput {
  branches: BranchRef[];
  nextPageToken: string | null;
  counts: Partial<Counts>;
}

/** Input of `syncEmployeesPage`. */
export interface SyncEmployeesPageInput {
  landing: RunLanding;
  branchId: string;
  pageToken: string | null;
}
/** Output of `syncEmployeesPage`. */
export interface SyncEmployeesPageOutput {
  /** Ids of the valid salespersons on this page. */
  salespersonIds: string[];
  nextPageToken: string | null;
  counts: Partial<Counts>;
}

/** A sales window as ISO instants; the vendor is asked with its own timestamp form. */
export interface SyncWindow {
  from: string;
  to: string;
}

/** Input of `syncSalesPage`. */
export interface SyncSalesPageInput {
  landing: RunLanding;
  employeeId: string;
  branchId: string;
  /** Null: every sale (full resync). */
  window: SyncWindow | null;
  pageToken: string | null;
}
/** Output of `syncSalesPage`. */
export interface SyncSalesPageOutput {
  nextPageToken: string | null;
  counts: Partial<Counts>;
  /**
   * The vendor answered 404 for this salesperson: it was listed moments ago and is gone now
   * (left the company, moved). Not a failure; the run reports it.
   */
  vanished?: boolean;
}
