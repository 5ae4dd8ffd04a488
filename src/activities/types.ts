/**
 * The activities' contracts: what the workflows call (inputs, outputs, the activity functions'
 * types, for `proxyActivities<...>()`). Type-only and importing only shared/, so workflow
 * code imports them (`import type`) without reaching any implementation; the implementations
 * (branches.ts, employees.ts, sales.ts, notify.ts, sync-runs.ts) are typed by these.
 */
import type { LandedRun } from '../shared/landed-run.js';
import type { VoidCheck } from '../shared/completeness.js';
import type { Counts, RunKind, SyncSummary } from '../shared/summary.js';

export type { LandedRun } from '../shared/landed-run.js';

/**
 * Where an activity's answers come from and go: a live run asks the vendor and lands each
 * answer under `run` before reading it; a replay reads the newest answer landed under `run`
 * and asks nobody. `dryRun` (replays only) counts what would change and writes nothing.
 */
export interface RunLanding {
  run: LandedRun;
  replay?: boolean;
  dryRun?: boolean;
  /**
   * A replay that writes its landed content even over items fetched later (--force: a restore
   * on purpose). Without it a replay leaves every such item alone and counts it newer kept.
   */
  force?: boolean;
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
  /**
   * Those of them with no whole history read yet (never seen under any branch, or their first
   * load did not complete). Absent on replays.
   */
  firstSightIds?: string[];
  /** Ids of employee records set aside (they may be salespersons: never marked as left). */
  setAsideIds?: string[];
  /** Records set aside whose id could not be read: the page is no evidence of who left. */
  unaccounted?: number;
  /** When the vendor's answer arrived (the worker's clock, as items' fetched_at): when a listing began. */
  fetchedAt?: string;
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
  /** Ids of every sale in the window on this page, stored or set aside (a void check's evidence). */
  listedIds?: string[];
  /** Records set aside whose id could not be read: the listing is no evidence of voids. */
  unaccounted?: number;
  /** Voided sales listed again on this page (their mark cleared). */
  restored?: number;
  /** When the vendor's answer arrived (the worker's clock, as items' fetched_at): when a listing began. */
  fetchedAt?: string;
  /**
   * The vendor answered 404 for this salesperson: it was listed moments ago and is gone now
   * (left the company, moved). Not a failure; the run reports it.
   */
  vanished?: boolean;
}

/**
 * The sync's activities (src/activities/index.ts, createActivities; one file per group:
 * branches.ts, employees.ts, sales.ts).
 */
export interface Activities {
  /** The branches a landed run asked for (replay without --branches), or `all`. */
  landedBranches: (input: { run: LandedRun }) => Promise<{ all: boolean; names: string[] }>;
  lookupBranch: (input: LookupBranchInput) => Promise<LookupBranchOutput>;
  listBranchesPage: (input: ListBranchesPageInput) => Promise<ListBranchesPageOutput>;
  syncEmployeesPage: (input: SyncEmployeesPageInput) => Promise<SyncEmployeesPageOutput>;
  syncSalesPage: (input: SyncSalesPageInput) => Promise<SyncSalesPageOutput>;
}

/** Which run writes: kept on the items it marks. */
export interface StateWriter {
  workflowId: string;
  runId: string;
}

/** Input of `branchState`. */
export interface BranchStateInput {
  branchId: string;
}
/** What the store keeps of a branch (null fields: never set). */
export interface BranchStateOutput {
  /** The end of the branch's last complete window (ISO), or null: never synced completely. */
  watermark: string | null;
  /** The end of the last complete sweep's window (ISO). */
  lastSweepAt: string | null;
}

/** Input of `checkVoids`. */
export interface CheckVoidsInput {
  employeeId: string;
  /** Null: every stored sale of the salesperson. */
  window: SyncWindow | null;
  /** Every sale id the complete listing of the window held. */
  listedIds: string[];
  /** When the listing began (ISO): a sale written after it was listed by another run, never voided. */
  listedSince: string;
  guardPercent: number;
  writer: StateWriter;
}

/** Input of `markDepartures`. */
export interface MarkDeparturesInput {
  branchId: string;
  /** Salespersons the complete listing held. */
  listedIds: string[];
  /** Employee ids set aside by the listing: not evidence either way. */
  keepIds: string[];
  listedSince: string;
  guardPercent: number;
  writer: StateWriter;
}
/** Output of `markDepartures`. */
export interface MarkDeparturesOutput {
  /** Stored memberships of the branch not marked left, before the check. */
  stored: number;
  departed: number;
  /** Set when the guard held the departures back. */
  guardedWouldLeave?: number;
}

/** Input of `advanceBranch`: a branch whose window was read completely. */
export interface AdvanceBranchInput {
  branchId: string;
  branchName: string;
  /** The end of the window read completely; the stored watermark never moves back. */
  watermark: string;
  /** A sweep's window end, recorded as the branch's last sweep. */
  sweep?: { kind: 'lookback' | 'full'; at: string };
  /** What this run did to the branch, for `status`. */
  lastRun: { workflowId: string; at: string; voided: number; departed: number; widenedFrom?: string };
}

/**
 * The state activities (src/activities/state.ts): DynamoDB only, on the workflow task queue,
 * outside the vendor's rate limit.
 */
export interface StateActivities {
  branchState: (input: BranchStateInput) => Promise<BranchStateOutput>;
  checkVoids: (input: CheckVoidsInput) => Promise<VoidCheck>;
  markDepartures: (input: MarkDeparturesInput) => Promise<MarkDeparturesOutput>;
  /** Records that these salespersons' whole history was read: they are no longer first sight. */
  markHistoryLoaded: (input: { employeeIds: string[]; at: string; writer: StateWriter }) => Promise<void>;
  /** Moves the watermark forward (never back) and records the run; returns the stored watermark. */
  advanceBranch: (input: AdvanceBranchInput) => Promise<{ watermark: string }>;
}

/** What a notice says of one run: which, what started it, how it ended, its summary. */
export interface NotifyRunInput {
  workflowId: string;
  /** What started the run (absent from runs started before it was sent). */
  kind?: RunKind;
  status: 'failed' | 'succeeded';
  /** Why it failed, for a failed run. */
  reason?: string;
  summary: SyncSummary;
}

/** What a notice step did: sent, not due (the run did not call for a notice), or not configured. */
export type NoticeOutcome = 'sent' | 'not due' | 'not configured';

/** What the follow-up step is told of a run in which every branch succeeded. */
export interface FollowUpInput {
  workflowId: string;
  /** What started the run (absent from runs started before it was sent). */
  kind?: RunKind;
  summary: SyncSummary;
}

/** The notification activities (src/activities/notify.ts, createNotifyActivities). */
export interface NotifyActivities {
  notifyWebhook: (input: NotifyRunInput) => Promise<NoticeOutcome>;
  notifySns: (input: NotifyRunInput) => Promise<NoticeOutcome>;
  followUp: (input: FollowUpInput) => Promise<boolean>;
}

/** One run's row. */
export interface SyncRunRecord {
  workflowId: string;
  /** The first run ID of the run's chain (continue-as-new keeps the workflow, not the run ID). */
  runId: string;
  kind: RunKind;
  /** The run's window; `from` null for a full resync (then `to` is its start). */
  window: { from: string | null; to: string };
  /** succeeded: every branch synced; partial: some failed (tolerated) or were skipped; failed. */
  status: 'succeeded' | 'partial' | 'failed';
  summary: SyncSummary;
  startedAt: string;
  endedAt: string;
}

/** The sync-run activities (src/activities/sync-runs.ts), run by the change feed's worker. */
export interface SyncRunActivities {
  recordSyncRun: (r: SyncRunRecord) => Promise<void>;
}
