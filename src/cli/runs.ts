/**
 * Runs: start one now, follow its progress, list recent ones with their summaries.
 */
import { type Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { manualRunId } from '../shared/ids.js';
import { SYNC_KIND, SYNC_WINDOW_END } from '../shared/search-attributes.js';
import { describeSummary, type SyncSummary } from '../shared/summary.js';
import type { TaskQueues } from '../shared/task-queues.js';
import type { salesSyncWorkflow } from '../workflows/index.js';
import type { SalesSyncInput, SyncProgress } from '../workflows/types.js';

/** Starts a parent run now. Its ID names the window end, so the same window is never started twice at once. */
export async function startRun(
  client: Client,
  queues: TaskQueues,
  input: SalesSyncInput,
  workflowId?: string,
): Promise<WorkflowHandle<typeof salesSyncWorkflow>> {
  const windowEnd = input.windowEnd ?? new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
  const full = input.window === 'full';
  const id = workflowId ?? (full ? `sales-sync-full-${windowEnd.slice(0, 19)}Z` : manualRunId(windowEnd));
  const branches =
    input.branches === 'all'
      ? 'all branches'
      : input.branches
        ? input.branches.join(', ')
        : 'default branches';
  return client.workflow.start('salesSyncWorkflow', {
    taskQueue: queues.workflows,
    workflowId: id,
    args: [{ vendorTaskQueue: queues.vendor, ...input, ...(full ? {} : { windowEnd }) }],
    typedSearchAttributes: [
      { key: SYNC_KIND, value: 'run' },
      ...(full ? [] : [{ key: SYNC_WINDOW_END, value: new Date(windowEnd) }]),
    ],
    staticSummary: `Manual sales sync (${branches}) ${full ? 'full resync' : `window ending ${windowEnd}`}`,
  }) as Promise<WorkflowHandle<typeof salesSyncWorkflow>>;
}

/** The summary of a finished run: its result, or the summary carried by its failure. */
export async function runOutcome(
  handle: WorkflowHandle,
): Promise<{ ok: boolean; summary?: SyncSummary; error?: string }> {
  try {
    return { ok: true, summary: (await handle.result()) as SyncSummary };
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const cause = err.cause;
      const summary =
        cause instanceof ApplicationFailure ? (cause.details?.[0] as SyncSummary | undefined) : undefined;
      return { ok: false, summary, error: cause?.message ?? err.message };
    }
    throw err;
  }
}

/** Renders a progress bar line. */
export function progressLine(p: SyncProgress, width = 30): string {
  const total = Math.max(1, p.branchesTotal);
  const filled = Math.round((p.branchesDone / total) * width);
  const c = p.summary.counts;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.branchesDone}/${p.branchesTotal} branches | ${
    p.summary.salespersonsSynced
  } salespersons | ${c.sales.fetched} sales fetched, ${c.sales.inserted + c.sales.updated} written | ${p.phase}${
    p.running.length ? ` (${p.running.join(', ')})` : ''
  }`;
}

/**
 * Follows a run with the `progress` query until it closes, drawing a live bar on a
 * terminal (or a line every few seconds when output is not a terminal).
 */
export async function followProgress(
  handle: WorkflowHandle,
  out: NodeJS.WriteStream = process.stderr,
  intervalMs = 500,
): Promise<void> {
  let last = '';
  let lastPrinted = 0;
  for (;;) {
    const desc = await handle.describe();
    if (desc.status.name !== 'RUNNING') break;
    try {
      const p = await handle.query<SyncProgress>('progress');
      const line = progressLine(p);
      if (out.isTTY)
        out.write(
          `\r${line.slice(0, (out.columns ?? 120) - 1).padEnd(Math.min(line.length, (out.columns ?? 120) - 1))}`,
        );
      else if (line !== last && Date.now() - lastPrinted > 5000) {
        out.write(`${line}\n`);
        lastPrinted = Date.now();
      }
      last = line;
    } catch {
      // The run has not processed its first task yet: nothing to show.
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  if (out.isTTY) out.write('\n');
}

/** One row of `list`. */
export interface RunRow {
  workflowId: string;
  status: string;
  startTime: Date;
  closeTime?: Date;
  summary: string;
}

/** The most recent parent runs, newest first, with their summaries when finished. */
export async function listRuns(client: Client, limit = 10): Promise<RunRow[]> {
  const rows: RunRow[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowType = 'salesSyncWorkflow'` })) {
    let summary = '';
    if (wf.status.name === 'COMPLETED' || wf.status.name === 'FAILED') {
      const outcome = await runOutcome(client.workflow.getHandle(wf.workflowId, wf.runId));
      summary = outcome.summary ? describeSummary(outcome.summary) : '';
      if (!outcome.ok) summary = `${outcome.error ?? 'failed'}${summary ? ` | ${summary}` : ''}`;
    } else if (wf.status.name === 'RUNNING') {
      try {
        summary = progressLine(
          await client.workflow.getHandle(wf.workflowId, wf.runId).query<SyncProgress>('progress'),
        );
      } catch {
        summary = '(starting)';
      }
    }
    rows.push({
      workflowId: wf.workflowId,
      status: wf.status.name,
      startTime: wf.startTime,
      closeTime: wf.closeTime,
      summary,
    });
    if (rows.length >= limit) break;
  }
  return rows;
}
