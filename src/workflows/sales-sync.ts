/**
 * Parent run (one per scheduled hour): resolves the branch list, runs one child per branch
 * with bounded concurrency, waits for all, checks that enough succeeded, and returns a
 * summary that counts every outcome.
 */
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  continueAsNew,
  defineQuery,
  executeChild,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { RunLanding, SyncWindow } from '../activities/types.js';
import { DEFAULT_BRANCHES } from '../shared/branches.js';
import { DEFAULT_BRANCH_CONCURRENCY, DEFAULT_SALESPERSON_CONCURRENCY } from '../shared/concurrency.js';
import { branchWorkflowId, windowScope } from '../shared/ids.js';
import { SYNC_KIND, SYNC_WINDOW_END, TEMPORAL_SCHEDULED_START_TIME } from '../shared/search-attributes.js';
import { addCounts, describeSummary, emptyCounts, type SyncSummary } from '../shared/summary.js';
import { DEFAULT_VENDOR_TASK_QUEUE } from '../shared/task-queues.js';
import { branchSyncWorkflow, childSearchAttributes } from './branch-sync.js';
import { followPages, historyFull, reasonOf, slidingWindow, vendorActivities } from './common.js';
import { recordRun } from '../metrics/run.js';
import { recordSyncRun, runKind, sendNotices } from './run-end.js';
import type { BranchCompletenessInput, BranchSyncOutput, SalesSyncInput, SyncProgress } from './types.js';
import {
  DEFAULT_VOID_GUARD_PERCENT,
  DEFAULT_WATERMARK_OVERLAP_MINUTES,
  addCompleteness,
  emptyCompleteness,
} from '../shared/completeness.js';

/** Live progress of a run (the CLI's progress bar polls it). */
export const progressQuery = defineQuery<SyncProgress>('progress');

const HOUR_MS = 3_600_000;

/**
 * The window of a run. By default the `windowHours` before the run's scheduled time (the
 * schedule sets TemporalScheduledStartTime, also on backfills), so a backfill of a past hour
 * syncs that past window; a run started by hand ends its window at `windowEnd` or its start.
 */
function resolveWindow(input: SalesSyncInput): SyncWindow | null {
  if (input.window === 'full') return null;
  if (input.window && input.window !== 'default') return input.window;
  const info = workflowInfo();
  const scheduled = info.typedSearchAttributes.get(TEMPORAL_SCHEDULED_START_TIME);
  const endMs = scheduled
    ? scheduled.getTime()
    : input.windowEnd
      ? Date.parse(input.windowEnd)
      : info.startTime.getTime();
  const end = Math.floor(endMs / 1000) * 1000;
  return {
    from: new Date(end - (input.windowHours ?? 24) * HOUR_MS).toISOString(),
    to: new Date(end).toISOString(),
  };
}

/**
 * Scope of the run's child IDs (windowScope). A replay's children take IDs of their own
 * (`replay/<scope of the replayed run>`), so a live run of the same window may run beside it,
 * and the items they write name the replayed run's window (src/feed/events.ts, windowOf).
 */
function runScope(input: SalesSyncInput, window: SyncWindow | null, startTime: string): string {
  if (!input.replay) return windowScope(window, startTime);
  // A full resync's scope names its start: the replayed run's, not the replay's.
  if (!window && patched('replay-source-scope')) return `replay/${input.replay.run.scope}`;
  return `replay/${windowScope(window, startTime)}`;
}

/** Where the run's answers land (a live run, under its own scope and ID) or are read from (a replay). */
function runLanding(input: SalesSyncInput, scope: string, workflowId: string): RunLanding {
  return input.replay
    ? {
        run: input.replay.run,
        replay: true,
        dryRun: input.replay.dryRun === true,
        ...(input.replay.force ? { force: true } : {}),
      }
    : { run: { scope, workflowId } };
}

/** The summary a run starts from: nothing counted yet. */
function newSummary(input: SalesSyncInput, window: SyncWindow | null): SyncSummary {
  return {
    window: { from: window?.from ?? null, to: window?.to ?? workflowInfo().startTime.toISOString() },
    kind: runKind(input),
    ...(input.replay?.force ? { forced: true } : {}),
    branchesRequested: 0,
    branchesSynced: 0,
    salespersonsSynced: 0,
    salespersonsShared: 0,
    pages: 0,
    counts: emptyCounts(),
    unknownBranches: [],
    failedBranches: [],
    skippedBranches: [],
    vanishedSalespersons: [],
    pagingStops: [],
    notice: null,
    followUp: null,
  };
}

/** Every branch name the vendor lists, page by page; a repeated page token ends the list (noted in the summary). */
async function listAllBranches(
  vendorTaskQueue: string,
  landing: RunLanding,
  summary: SyncSummary,
): Promise<string[]> {
  const acts = vendorActivities(vendorTaskQueue);
  const found = new Set<string>();
  const stop = await followPages(
    async (pageToken) => {
      const page = await acts.listBranchesPage({ landing, pageToken });
      summary.pages++;
      addCounts(summary.counts, page.counts);
      for (const b of page.branches) found.add(b.name);
      return page;
    },
    (token, seen) =>
      seen.has(token) ? `the vendor repeated page token ${JSON.stringify(token)}` : undefined,
  );
  if (stop) summary.pagingStops.push({ list: 'all branches', reason: stop });
  return [...found];
}

/** The names of the branches a new run syncs: asked for, all the vendor lists, or what a replayed run asked for. */
async function branchNames(
  input: SalesSyncInput,
  vendorTaskQueue: string,
  landing: RunLanding,
  summary: SyncSummary,
): Promise<string[]> {
  if (input.replay && input.branches === undefined) {
    // A replay syncs what the replayed run asked for.
    const landed = await vendorActivities(vendorTaskQueue).landedBranches({ run: input.replay.run });
    return landed.all ? listAllBranches(vendorTaskQueue, landing, summary) : landed.names;
  }
  if (input.branches === 'all') return listAllBranches(vendorTaskQueue, landing, summary);
  return [...new Set(input.branches ?? DEFAULT_BRANCHES)];
}

/**
 * What the branches need to keep the copy complete: watermarks, first loads, voids. A replay
 * reads old answers: it neither widens windows nor voids nor moves a watermark.
 */
function completenessInput(
  input: SalesSyncInput,
  window: SyncWindow | null,
): BranchCompletenessInput | undefined {
  if (input.replay || !patched('completeness')) return undefined;
  const start = workflowInfo().startTime.getTime();
  return {
    // A window ending in the future (a mistyped --window-end) must not hide the outages before it.
    windowEnd: new Date(Math.min(window ? Date.parse(window.to) : start, start)).toISOString(),
    overlapMinutes: input.watermarkOverlapMinutes ?? DEFAULT_WATERMARK_OVERLAP_MINUTES,
    voidGuardPercent: input.voidGuardPercent ?? DEFAULT_VOID_GUARD_PERCENT,
    ...(input.sweep ? { sweep: input.sweep } : {}),
  };
}

/** Adds what a branch child did (synced or failed) to the run's summary. */
function addBranch(summary: SyncSummary, r: BranchSyncOutput): void {
  if (r.completeness)
    summary.completeness = addCompleteness(summary.completeness ?? emptyCompleteness(), r.completeness);
  summary.pages += r.pages;
  addCounts(summary.counts, r.counts);
  summary.pagingStops.push(...r.pagingStops);
  summary.salespersonsSynced += r.salespersons;
  summary.salespersonsShared += r.salespersonsShared ?? 0;
  for (const employeeId of r.vanishedSalespersons ?? [])
    summary.vanishedSalespersons.push({ branch: r.name, employeeId });
}

/** What every branch child of one run shares. */
interface BranchRun {
  input: SalesSyncInput;
  window: SyncWindow | null;
  scope: string;
  runId: string;
  landing: RunLanding;
  vendorTaskQueue: string;
  useSearchAttributes: boolean;
  summary: SyncSummary;
  progress: SyncProgress;
  /** What each branch needs to keep the copy complete (absent: a replay, or a run of older code). */
  completeness?: BranchCompletenessInput;
}

/** Runs one branch child and records its outcome: synced, unknown, held by another run, or failed. */
async function syncBranch(run: BranchRun, name: string): Promise<void> {
  const { input, window, scope, summary, progress } = run;
  progress.running.push(name);
  try {
    const r = await executeChild(branchSyncWorkflow, {
      workflowId: branchWorkflowId(scope, name),
      args: [
        {
          name,
          window,
          scope,
          runId: run.runId,
          landing: run.landing,
          historyBudget: input.historyBudget,
          salespersonConcurrency: input.salespersonConcurrency ?? DEFAULT_SALESPERSON_CONCURRENCY,
          vendorTaskQueue: run.vendorTaskQueue,
          searchAttributes: run.useSearchAttributes,
          ...(run.completeness ? { completeness: run.completeness } : {}),
        },
      ],
      typedSearchAttributes: childSearchAttributes(
        run.useSearchAttributes,
        name,
        'branch',
        window?.to ?? null,
      ),
      staticSummary: `Branch ${name}, window ${window ? `${window.from} .. ${window.to}` : 'full resync'}`,
    });
    addBranch(summary, r);
    if (r.status === 'unknown') summary.unknownBranches.push(name);
    else summary.branchesSynced++;
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      summary.skippedBranches.push(name);
    } else {
      // A branch that failed still counts what it did before failing.
      const cause = err instanceof ChildWorkflowFailure ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === 'BranchSyncFailed')
        addBranch(summary, cause.details?.[0] as BranchSyncOutput);
      summary.failedBranches.push({ branch: name, reason: reasonOf(cause ?? err) });
    }
  } finally {
    progress.running = progress.running.filter((n) => n !== name);
    progress.branchesDone++;
    setCurrentDetails(`${progress.branchesDone}/${progress.branchesTotal} branches done`);
  }
}

/**
 * The end of a run whose branches are all done: its notices and its sync_runs row (neither ever
 * fails the run), its metrics, and its failure when more branches failed than tolerated.
 */
async function finishRun(input: SalesSyncInput, summary: SyncSummary, names: string[]): Promise<SyncSummary> {
  const tolerated = input.toleratedFailurePercent ?? 0;
  const failedShare = names.length ? (summary.failedBranches.length * 100) / names.length : 0;
  const failed = summary.failedBranches.length > 0 && failedShare > tolerated;
  const reason = `${summary.failedBranches.length} of ${names.length} branches failed (tolerated: ${tolerated}%): ${summary.failedBranches
    .map((f) => `${f.branch}: ${f.reason}`)
    .join('; ')}`;

  // A notice when the run failed or set aside too many records, to each destination as a
  // step of its own; then the run's row in sync_runs.
  const end = {
    status: failed ? ('failed' as const) : ('succeeded' as const),
    reason: failed ? reason : undefined,
  };
  await sendNotices(input, summary, end);
  await recordSyncRun(input, summary, end);

  // A replay asks the vendor nothing: its success says nothing of the data's freshness.
  if (!input.replay) recordRun(summary, failed);
  if (failed) {
    throw ApplicationFailure.create({
      type: 'SyncRunFailed',
      message: reason,
      nonRetryable: true,
      details: [summary],
    });
  }
  return summary;
}

/**
 * Syncs the branches' data for one window. Continues as new before its history grows large
 * (about 8 events per branch), carrying the window, the branch list and the summary so far.
 */
export async function salesSyncWorkflow(input: SalesSyncInput = {}): Promise<SyncSummary> {
  const vendorTaskQueue = input.vendorTaskQueue ?? DEFAULT_VENDOR_TASK_QUEUE;
  const useSearchAttributes = input.searchAttributes ?? true;
  const resume = input.resume;
  const window = resume ? resume.window : resolveWindow(input);
  const info = workflowInfo();
  const scope = resume?.scope ?? runScope(input, window, info.startTime.toISOString());
  const landing = runLanding(input, scope, info.workflowId);
  // Salesperson child IDs carry this run's ID (kept across continue-as-new). A reset run
  // (`temporal workflow reset`) takes its own, so it syncs again instead of finding the
  // original run's children and counting them as shared.
  const isReset = info.runId !== info.originalExecutionRunId;
  const runId = isReset ? info.runId : (resume?.runId ?? info.runId);
  const summary: SyncSummary = resume?.summary ?? newSummary(input, window);
  const progress: SyncProgress = {
    phase: 'resolving branches',
    branchesTotal: 0,
    branchesDone: 0,
    running: [],
    summary,
  };
  setHandler(progressQuery, () => progress);
  if (useSearchAttributes) {
    upsertSearchAttributes([
      { key: SYNC_KIND, value: input.replay ? 'replay' : 'run' },
      ...(window ? [{ key: SYNC_WINDOW_END, value: new Date(window.to) }] : []),
    ]);
  }

  const names = resume ? resume.names : await branchNames(input, vendorTaskQueue, landing, summary);
  summary.branchesRequested = names.length;
  progress.branchesTotal = names.length;
  progress.branchesDone = resume?.nextIndex ?? 0;
  progress.phase = 'syncing';

  const run: BranchRun = {
    input,
    window,
    scope,
    runId,
    landing,
    vendorTaskQueue,
    useSearchAttributes,
    summary,
    progress,
    completeness: completenessInput(input, window),
  };
  const nextIndex = await slidingWindow(
    names,
    resume?.nextIndex ?? 0,
    input.branchConcurrency ?? DEFAULT_BRANCH_CONCURRENCY,
    (name) => syncBranch(run, name),
    () => historyFull(input.historyBudget),
  );
  if (nextIndex < names.length) {
    await continueAsNew<typeof salesSyncWorkflow>({
      ...input,
      resume: { window, scope, runId, names, nextIndex, summary },
    });
  }
  progress.phase = 'done';
  setCurrentDetails(describeSummary(summary));
  return finishRun(input, summary, names);
}
