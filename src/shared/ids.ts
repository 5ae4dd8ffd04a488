/**
 * Workflow IDs that say what a run is, in the Web UI and the CLI. A child's ID is built
 * from the window end and the branch (and salesperson), so a second run over the same
 * window cannot start a duplicate child while the first one runs.
 */

/** ID of the hourly schedule. Its runs are named `<schedule id>-<scheduled time>` by Temporal. */
export const SCHEDULE_ID = 'sales-sync-hourly';

/** Prefix of every workflow this project starts. */
export const WORKFLOW_ID_PREFIX = 'sales-sync';

/** Window end as it appears in IDs: ISO to the second, UTC (`2026-11-21T05:00:00Z`), or `full` for a full resync. */
export function windowTag(windowEnd: string | null): string {
  return windowEnd ? `${new Date(windowEnd).toISOString().slice(0, 19)}Z` : 'full';
}

/** ID of a manually started parent run. */
export function manualRunId(windowEnd: string, kind: 'manual' | 'backfill' = 'manual'): string {
  return `${WORKFLOW_ID_PREFIX}-${kind}-${windowTag(windowEnd)}`;
}

/** ID of a branch child. `scope` is the window tag (for a full resync: `full-` and the parent's start time). */
export function branchWorkflowId(scope: string, branch: string): string {
  return `${WORKFLOW_ID_PREFIX}/${scope}/branch/${branch}`;
}

/** ID of a salesperson child. */
export function salespersonWorkflowId(scope: string, branch: string, employeeId: number): string {
  return `${WORKFLOW_ID_PREFIX}/${scope}/branch/${branch}/salesperson/${employeeId}`;
}
