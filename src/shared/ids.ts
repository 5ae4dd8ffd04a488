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
const WORKFLOW_ID_PREFIX = 'sales-sync';

/** Window end as it appears in IDs: ISO to the second, UTC (`2026-11-21T05:00:00Z`), or `full` for a full resync. */
function windowTag(windowEnd: string | null): string {
  return windowEnd ? `${new Date(windowEnd).toISOString().slice(0, 19)}Z` : 'full';
}

/**
 * Scope of a run's child IDs: the window's end and its length (`2026-11-21T05:00:00Z/24h`), so
 * two runs over different windows that end at the same time (a 72-hour recovery run beside
 * the hourly one) never take each other's child IDs; a full resync is `full-<start>`.
 */
export function windowScope(window: { from: string; to: string } | null, startTime: string): string {
  if (!window) return `full-${windowTag(startTime)}`;
  const seconds = Math.round((Date.parse(window.to) - Date.parse(window.from)) / 1000);
  const span = seconds % 3600 === 0 ? `${seconds / 3600}h` : `${seconds}s`;
  return `${windowTag(window.to)}/${span}`;
}

/** ID of a manually started parent run. */
export function manualRunId(windowEnd: string, kind: 'manual' | 'backfill' = 'manual'): string {
  return `${WORKFLOW_ID_PREFIX}-${kind}-${windowTag(windowEnd)}`;
}

/** ID of a branch child. `scope` is the run's windowScope. */
export function branchWorkflowId(scope: string, branch: string): string {
  return `${WORKFLOW_ID_PREFIX}/${scope}/branch/${branch}`;
}

/**
 * ID of a salesperson child: one per salesperson and parent run (`runId` is the parent's
 * run ID), whichever branch lists it. Started with REJECT_DUPLICATE, so the second branch
 * that lists the same salesperson in the same run finds the ID taken and does not fetch again.
 */
export function salespersonWorkflowId(scope: string, runId: string, employeeId: string | number): string {
  return `${WORKFLOW_ID_PREFIX}/${scope}/salesperson/${employeeId}/run/${runId}`;
}
