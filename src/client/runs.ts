/**
 * Runs: start one now, follow its progress, list recent ones with their summaries.
 */
import { type Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { PayloadDecryptionError } from '../codec/index.js';
import { manualRunId } from '../shared/ids.js';
import { SYNC_KIND, SYNC_WINDOW_END } from '../shared/search-attributes.js';
import { describeSummary, type SyncSummary } from '../shared/summary.js';
import type { TaskQueues } from '../shared/task-queues.js';
import { progressQuery, salesSyncWorkflow } from '../workflows/index.js';
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
  return client.workflow.start(salesSyncWorkflow, {
    taskQueue: queues.workflows,
    workflowId: id,
    args: [{ vendorTaskQueue: queues.vendor, ...input, ...(full ? {} : { windowEnd }) }],
    typedSearchAttributes: [
      { key: SYNC_KIND, value: 'run' },
      ...(full ? [] : [{ key: SYNC_WINDOW_END, value: new Date(windowEnd) }]),
    ],
    staticSummary: `Manual sales sync (${branches}) ${full ? 'full resync' : `window ending ${windowEnd}`}`,
  });
}

/** How a run ended, as every command reports it. */
export interface RunOutcome {
  /** The run completed (Temporal status COMPLETED), whether or not its summary could be read. */
  ok: boolean;
  /** Temporal's status of the run: COMPLETED, FAILED, TERMINATED, CANCELLED, TIMED_OUT, ... */
  status: string;
  summary?: SyncSummary;
  /** Why the run failed (not set when it completed). */
  error?: string;
  /** Why the summary could not be read (a payload this client cannot decode), when it could not. */
  unreadable?: string;
}

/**
 * The outcome of a finished run (waits for it to close). Success is Temporal's status of the
 * run: a completed run whose result this client cannot decode is still reported as completed,
 * with `unreadable` saying why its summary is missing.
 */
export async function runOutcome(handle: WorkflowHandle): Promise<RunOutcome> {
  try {
    return { ok: true, status: 'COMPLETED', summary: (await handle.result()) as SyncSummary };
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const cause = err.cause;
      const summary =
        cause instanceof ApplicationFailure ? (cause.details?.[0] as SyncSummary | undefined) : undefined;
      const status = (await handle.describe()).status.name;
      return { ok: false, status, summary, error: cause?.message ?? err.message };
    }
    // Not a failure of the run: its result (or failure details) could not be decoded here.
    const status = (await handle.describe().catch(() => undefined))?.status.name;
    // Still running (or not reachable): the error was about waiting, not about the result.
    if (!status || status === 'RUNNING' || status === 'CONTINUED_AS_NEW') throw err;
    return {
      ok: status === 'COMPLETED',
      status,
      unreadable: (err as Error).message,
      ...(status === 'COMPLETED' ? {} : { error: `run ${status.toLowerCase()}` }),
    };
  }
}

/**
 * What a command prints about a finished run and its exit code: 0 when it completed and synced
 * every branch it was asked for; 1 when it failed, or completed but skipped branches another run
 * was already syncing over the same window (those branches were not synced by it).
 */
export function reportOutcome(
  workflowId: string,
  outcome: RunOutcome,
): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const s = outcome.summary;
  if (s) out.push(`summary            ${describeSummary(s)}`);
  if (!outcome.ok) {
    err.push(`run ${workflowId} FAILED (${outcome.status}): ${outcome.error ?? ''}`);
    return { code: 1, out, err };
  }
  if (outcome.unreadable)
    err.push(`run ${workflowId} succeeded, but its summary cannot be read here: ${outcome.unreadable}`);
  if (s && s.skippedBranches.length) {
    const list = s.skippedBranches.join(',');
    err.push(
      `run ${workflowId} completed but did NOT sync ${s.skippedBranches.length} branch(es): ${s.skippedBranches.join(', ')} — another run over the same window (ending ${s.window.to}) was already syncing them. Check that run with \`npm run cli -- list\`; to sync them with this window once it is done: npm run cli -- run --branches ${list} --window-end ${s.window.to}`,
    );
    return { code: 1, out, err };
  }
  out.push(`run ${workflowId} succeeded`);
  return { code: 0, out, err };
}

/** The progress of a finished run, drawn from its summary (the bar at its end). */
export function finalProgress(s: SyncSummary): SyncProgress {
  const done =
    s.branchesSynced + s.failedBranches.length + s.unknownBranches.length + s.skippedBranches.length;
  return {
    phase: 'done',
    branchesTotal: s.branchesRequested,
    branchesDone: Math.min(done, s.branchesRequested),
    running: [],
    summary: s,
  };
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
      const p = await handle.query(progressQuery);
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
    } catch (err) {
      // Before its first workflow task a run cannot answer queries yet: nothing to show. A
      // payload this client cannot decode is a configuration problem, said at once.
      if (isDecodeError(err)) throw err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  if (out.isTTY && last) out.write('\n');
}

/** Draws the bar of a finished run, so that it ends at its real totals. */
export function finishProgress(outcome: RunOutcome, out: NodeJS.WriteStream = process.stderr): void {
  if (outcome.summary) out.write(`${progressLine(finalProgress(outcome.summary))}\n`);
}

/** Whether `err` says a payload could not be decoded (a missing or wrong key). */
function isDecodeError(err: unknown): boolean {
  const text = `${(err as Error)?.message ?? ''} ${String((err as { cause?: Error })?.cause?.message ?? '')}`;
  return err instanceof PayloadDecryptionError || /Unknown encoding|Cannot decrypt a payload/.test(text);
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
  for await (const wf of client.workflow.list({ query: `WorkflowType = '${salesSyncWorkflow.name}'` })) {
    let summary = '';
    let status = wf.status.name as string;
    if (wf.status.name === 'COMPLETED' || wf.status.name === 'FAILED') {
      const outcome = await runOutcome(client.workflow.getHandle(wf.workflowId, wf.runId));
      summary = outcome.summary
        ? describeSummary(outcome.summary)
        : outcome.unreadable
          ? `(summary cannot be read: ${outcome.unreadable})`
          : '';
      if (!outcome.ok) summary = `${outcome.error ?? 'failed'}${summary ? ` | ${summary}` : ''}`;
      // Completed, but some branches were left to another run: not a full success.
      if (outcome.ok && outcome.summary?.skippedBranches.length) status = 'INCOMPLETE';
    } else if (wf.status.name === 'RUNNING') {
      try {
        summary = progressLine(await client.workflow.getHandle(wf.workflowId, wf.runId).query(progressQuery));
      } catch (err) {
        summary = isDecodeError(err) ? `(progress cannot be read: ${(err as Error).message})` : '(starting)';
      }
    }
    rows.push({
      workflowId: wf.workflowId,
      status,
      startTime: wf.startTime,
      closeTime: wf.closeTime,
      summary,
    });
    if (rows.length >= limit) break;
  }
  return rows;
}
