/**
 * Workflow IDs that say what a run is, in the Web UI and the CLI. A branch child's ID is
 * built from the window end and the branch, so a second run over the same window cannot
 * start a duplicate branch child while the first one runs. A salesperson child's ID leaves
 * the branch out and names the parent run instead: a salesperson listed under two branches
 * (a transfer in progress) gets one child, and so one fetch of its sales, per run.
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

/**
 * ID of a salesperson child: one per salesperson and parent run (`runId` is the parent's
 * run ID), whichever branch lists it. Started with REJECT_DUPLICATE, so the second branch
 * that lists the same salesperson in the same run finds the ID taken and does not fetch again.
 */
export function salespersonWorkflowId(scope: string, runId: string, employeeId: number): string {
  return `${WORKFLOW_ID_PREFIX}/${scope}/salesperson/${employeeId}/run/${runId}`;
}
