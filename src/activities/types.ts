/**
 * The activities' contracts: what the workflows call (inputs, outputs, the activity functions'
 * types, for `proxyActivities<...>()`). Type-only and importing only shared/, so workflow
 * code imports them (`import type`) without reaching any implementation; the implementations
 * (branches.ts, employees.ts, sales.ts, notify.ts, sync-runs.ts) are typed by these.
 */
import type { LandedRun } from '../shared/landed-run.js';
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
