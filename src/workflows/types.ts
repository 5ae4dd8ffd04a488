/**
 * Inputs, outputs and progress of the three workflows. Plain data only: keys, cursors
 * and counts, never vendor records.
 */
import type { BranchRef, LandedRun, RunLanding, SyncWindow } from '../activities/types.js';
import type { Completeness, VoidCheck, VoidSkip } from '../shared/completeness.js';
import type { Counts, PagingStop, SyncSummary } from '../shared/summary.js';

export type { SyncSummary } from '../shared/summary.js';

/** Input of the parent run. Everything is optional: the schedule starts it with `{}`. */
export interface SalesSyncInput {
  /** Exact branch names, or 'all' for every branch the vendor lists. Default: the 13 original branches. */
  branches?: string[] | 'all';
  /**
   * 'default': the `windowHours` before the run's scheduled time (a backfill of past hours
   * syncs those past windows); 'full': every sale (full resync); or an explicit window.
   */
  window?: 'default' | 'full' | SyncWindow;
  /** Window end for 'default' when the run was not started by the schedule (ISO). Default: the start time. */
  windowEnd?: string;
  windowHours?: number;
  branchConcurrency?: number;
  salespersonConcurrency?: number;
  /** Share of branches (0..100) that may fail without failing the run. Default 0. */
  toleratedFailurePercent?: number;
  /** Task queue of the vendor activities. Default: DEFAULT_VENDOR_TASK_QUEUE. */
  vendorTaskQueue?: string;
  /** Set the custom search attributes on children (needs them registered). Default true. */
  searchAttributes?: boolean;
  /** Events after which each workflow of the run continues as new. Default HISTORY_BUDGET (tests lower it). */
  historyBudget?: number;
  /**
   * Replay: read the answers landed by the run `run` instead of asking the vendor (zero vendor
   * requests), and validate and upsert them as a run would; `dryRun` writes nothing and counts
   * what would change. The window must be that run's (the CLI's `replay` sets both).
   * A replay leaves alone every item fetched later than its landed answer (counted newer kept)
   * unless `force` (a restore on purpose); it sends no notice and no follow-up unless `notify`.
   */
  replay?: { run: LandedRun; dryRun?: boolean; force?: boolean; notify?: boolean };
  /**
   * Task queue of the change feed's worker, which writes the run's row into `sync_runs`
   * (PostgreSQL). Default: the feed queue of this deployment (the workflow queue's suffix);
   * null: record nothing (a deployment without the SQL copy).
   */
  feedTaskQueue?: string | null;
  /**
   * A lookback sweep's run (its schedule sets it): `lookback` reads the last `windowHours`,
   * `full` every sale. Recorded per branch as its last sweep.
   */
  sweep?: 'lookback' | 'full';
  /** Minutes a window reaching back to a watermark starts before it (default DEFAULT_WATERMARK_OVERLAP_MINUTES). */
  watermarkOverlapMinutes?: number;
  /** Most a complete listing may void, in percent of the window's stored sales (default DEFAULT_VOID_GUARD_PERCENT). */
  voidGuardPercent?: number;
  /** Carried across continue-as-new. */
  resume?: SalesSyncResume;
}

/** State the parent carries into its next run (continue-as-new). */
export interface SalesSyncResume {
  window: SyncWindow | null;
  scope: string;
  /** Run ID of the first run of the chain: salesperson child IDs stay the same across runs. */
  runId: string;
  names: string[];
  nextIndex: number;
  summary: SyncSummary;
}

/** Input of a branch child. */
export interface BranchSyncInput {
  name: string;
  window: SyncWindow | null;
  /** Scope of child IDs (windowScope: window end and length). */
  scope: string;
  /** Run ID of the parent run (its own after a reset): salesperson children are unique per run (see salespersonWorkflowId). */
  runId: string;
  /** Where answers land (or, in a replay, are read from). */
  landing: RunLanding;
  salespersonConcurrency: number;
  vendorTaskQueue: string;
  searchAttributes: boolean;
  historyBudget?: number;
  /**
   * Completeness settings (watermarks, first loads, voids, departures); absent in runs started
   * before them, which sync the window as given and void nothing.
   */
  completeness?: BranchCompletenessInput;
  /** Carried across continue-as-new. */
  resume?: BranchResume;
}

/** What a branch child needs to keep its branch complete. */
export interface BranchCompletenessInput {
  /** The end of this run's window, or its start for a full resync: the watermark a complete branch moves to. */
  windowEnd: string;
  overlapMinutes: number;
  voidGuardPercent: number;
  /** A sweep's run: the branch records it as its last sweep. */
  sweep?: 'lookback' | 'full';
}

/** State a branch child carries into its next run (continue-as-new). */
export interface BranchResume {
  branch: BranchRef;
  salespersonIds: string[];
  nextIndex: number;
  partial: BranchSyncOutput;
  /** Set when the chain began with a reset of this branch: the run ID its children's IDs fall back to. */
  resetRunId?: string;
  /** The branch's window after widening (absent: the input's). */
  window?: SyncWindow | null;
  /** Salespersons seen for the first time: their children read every sale. */
  firstSightIds?: string[];
  /** Salespersons whose whole history this branch's children read completely (to record). */
  loadedIds?: string[];
  /** The employee listing was complete evidence for departures (no paging stop, every record's id read). */
  listingComplete?: boolean;
}

/** Result of a branch child. */
export interface BranchSyncOutput {
  name: string;
  status: 'synced' | 'unknown';
  branchId: string | null;
  /** Salespersons whose sales this branch's children synced. */
  salespersons: number;
  /** Salespersons also listed under another branch whose sales that branch's child synced in this run. */
  salespersonsShared: number;
  pages: number;
  counts: Counts;
  pagingStops: PagingStop[];
  /** Salesperson children that failed after their retries: the branch fails with them. */
  failedSalespersons: { employeeId: string; reason: string }[];
  /** Salespersons listed by the branch whose sales the vendor then answered 404 for. */
  vanishedSalespersons: string[];
  /** First loads, widening, voids and departures of this branch (absent from older runs). */
  completeness?: Completeness;
}

/** Input of a salesperson child. */
export interface SalespersonSyncInput {
  employeeId: string;
  branchId: string;
  branchName: string;
  window: SyncWindow | null;
  vendorTaskQueue: string;
  /** Where answers land (or, in a replay, are read from). */
  landing: RunLanding;
  historyBudget?: number;
  /** Compare the stored sales of the window with the listing and mark the unlisted voided (absent: no check). */
  voids?: { guardPercent: number };
  /** Carried across continue-as-new. */
  resume?: {
    pageToken: string | null;
    seenTokens: string[];
    partial: SalespersonSyncOutput;
    /** Ids listed so far (void check), or null once there were too many to keep. */
    listedIds?: string[] | null;
    /** Records set aside whose id could not be read, so far. */
    unaccounted?: number;
    /** When the listing began (ISO): an item written after it was listed by another run. */
    listedSince?: string;
    /** Voided sales listed again so far. */
    restored?: number;
    /** A page so far came from a worker that does not report its evidence. */
    unreported?: boolean;
  };
}

/** Result of a salesperson child. */
export interface SalespersonSyncOutput {
  pages: number;
  counts: Counts;
  pagingStop: PagingStop | null;
  /** The vendor answered 404 for this salesperson's sales: gone since it was listed. */
  vanished?: boolean;
  /** What the void check found (absent when not asked or skipped). */
  voids?: VoidCheck;
  /** Why the listing was not checked for voids. */
  voidSkip?: VoidSkip;
}

/** What the parent's `progress` query answers. */
export interface SyncProgress {
  phase: 'resolving branches' | 'syncing' | 'done';
  branchesTotal: number;
  branchesDone: number;
  running: string[];
  summary: SyncSummary;
}
