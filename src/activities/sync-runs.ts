/**
 * `sync_runs`: one row per sync run in the PostgreSQL copy (migrations/005_sync_runs.sql), so
 * analysts see which runs, windows and counts the copy holds. The change feed's worker (the
 * process that has PostgreSQL) runs this activity; the parent run calls it at its end.
 */
import type pg from 'pg';
import type { SyncRunActivities, SyncRunRecord } from './types.js';

/** The contracts (./types.ts). */
export type { SyncRunActivities, SyncRunRecord } from './types.js';

/** The activities the feed worker registers for the sync's parent runs. */
export function createSyncRunActivities(pool: pg.Pool): SyncRunActivities {
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
