/**
 * `sync_runs`: one row per sync run in the PostgreSQL copy (migrations/005_sync_runs.sql), so
 * analysts see which runs, windows and counts the copy holds. The change feed's worker (the
 * process that has PostgreSQL) runs this activity; the parent run calls it at its end.
 */
import type pg from 'pg';
import type { RunKind, SyncSummary } from '../shared/summary.js';

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

/** The activities the feed worker registers for the sync's parent runs. */
export function createSyncRunActivities(pool: pg.Pool) {
  return {
    /** Writes (or rewrites, when retried) the run's row in sync_runs. */
    recordSyncRun: async (r: SyncRunRecord): Promise<void> => {
      await pool.query(
        `INSERT INTO sync_runs (workflow_id, run_id, kind, window_from, window_to, status, counts,
                                branches_requested, branches_synced, failed_branches, started_at, ended_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (workflow_id, run_id) DO UPDATE SET
           kind = EXCLUDED.kind, window_from = EXCLUDED.window_from, window_to = EXCLUDED.window_to,
           status = EXCLUDED.status, counts = EXCLUDED.counts,
           branches_requested = EXCLUDED.branches_requested, branches_synced = EXCLUDED.branches_synced,
           failed_branches = EXCLUDED.failed_branches, started_at = EXCLUDED.started_at,
           ended_at = EXCLUDED.ended_at, recorded_at = now()`,
        [
          r.workflowId,
          r.runId,
          r.kind,
          r.window.from,
          r.window.to,
          r.status,
          JSON.stringify(r.summary.counts),
          r.summary.branchesRequested,
          r.summary.branchesSynced,
          r.summary.failedBranches.map((f) => f.branch),
          r.startedAt,
          r.endedAt,
        ],
      );
    },
  };
}

/** The sync-run activities' type, for `proxyActivities` in workflows (type-only import). */
export type SyncRunActivities = ReturnType<typeof createSyncRunActivities>;
