/**
 * Branch child: looks the branch up by name, upserts it, pages through its employees,
 * upserts the salespersons, then runs one child per salesperson in a sliding window of
 * bounded concurrency. Continues as new before its history grows large, so any branch
 * size stays far inside Temporal's limits.
 */
import {
  ApplicationFailure,
  continueAsNew,
  executeChild,
  setCurrentDetails,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, type SearchAttributePair } from '@temporalio/common';
import { salespersonWorkflowId } from '../shared/ids.js';
import { SYNC_BRANCH, SYNC_KIND, SYNC_WINDOW_END } from '../shared/search-attributes.js';
import { addCounts, emptyCounts } from '../shared/summary.js';
import { followPages, historyFull, reasonOf, slidingWindow, vendorActivities } from './common.js';
import { MAX_PAGES_PER_LIST, salespersonSyncWorkflow } from './salesperson-sync.js';
import type { Activities, BranchRef, SyncWindow } from '../activities/types.js';
import {
  type EmployeeListing,
  addVoids,
  finishBranch,
  markDepartures,
  resolveBranchWindow,
} from './branch-state.js';
import type {
  BranchSyncInput,
  BranchSyncOutput,
  SalespersonSyncInput,
  SalespersonSyncOutput,
} from './types.js';

/** Lookups of a branch whose record keeps failing validation before the branch fails. */
const INVALID_BRANCH_ATTEMPTS = 4;

/** Search attributes of a child run, when enabled. */
export function childSearchAttributes(
  enabled: boolean,
  branch: string,
  kind: string,
  windowEnd: string | null,
): SearchAttributePair[] | undefined {
  if (!enabled) return undefined;
  const pairs: SearchAttributePair[] = [
    { key: SYNC_BRANCH, value: branch },
    { key: SYNC_KIND, value: kind },
  ];
  if (windowEnd) pairs.push({ key: SYNC_WINDOW_END, value: new Date(windowEnd) });
  return pairs;
}

/**
 * The run ID a branch's salesperson children fall back to when their usual ID is taken by this
 * branch's own earlier run: this run's, when it is a reset (`temporal workflow reset`), else
 * the one carried across continue-as-new from a reset earlier in the chain, else none. This
 * run's own reset wins: an older one's IDs are taken by then.
 */
export function resetRunIdOf(
  info: { runId: string; originalExecutionRunId: string },
  carried: string | undefined,
): string | undefined {
  return info.runId !== info.originalExecutionRunId ? info.runId : carried;
}

/** A branch's output before anything is synced. */
function newBranchOutput(name: string): BranchSyncOutput {
  return {
    name,
    status: 'synced',
    branchId: null,
    salespersons: 0,
    salespersonsShared: 0,
    pages: 0,
    counts: emptyCounts(),
    pagingStops: [],
    failedSalespersons: [],
    vanishedSalespersons: [],
  };
}

/**
 * Looks the branch up by name, counting each answer into `out`; null when the vendor has no
 * branch of that name. The vendor may answer with a record for this name that fails validation
 * (set aside): the branch exists but cannot be read this time. Ask again a few times before
 * failing the branch; an unknown name is not a failure.
 */
async function lookUp(
  input: BranchSyncInput,
  acts: Activities,
  out: BranchSyncOutput,
): Promise<BranchRef | null> {
  let found = await acts.lookupBranch({ landing: input.landing, name: input.name });
  out.pages++;
  addCounts(out.counts, found.counts);
  for (let attempt = 1; !found.branch && (found.counts.branches?.setAside ?? 0) > 0; attempt++) {
    if (attempt >= INVALID_BRANCH_ATTEMPTS) {
      throw ApplicationFailure.create({
        type: 'BranchSyncFailed',
        message: `the vendor's record of branch ${input.name} was invalid ${attempt} times and was set aside (see the quarantine table)`,
        nonRetryable: true,
        details: [out],
      });
    }
    await sleep(`${5 * attempt}s`);
    found = await acts.lookupBranch({ landing: input.landing, name: input.name });
    out.pages++;
    addCounts(out.counts, found.counts);
  }
  return found.branch;
}

/**
 * The branch's salespersons, page by page, with what the listing proves (first sight, set-aside
 * ids, completeness); a repeated token or too many pages ends the list (noted in `out`).
 */
async function listSalespersons(
  input: BranchSyncInput,
  acts: Activities,
  branch: BranchRef,
  out: BranchSyncOutput,
  window: SyncWindow | null,
): Promise<EmployeeListing> {
  const unique = new Set<string>();
  const listing: EmployeeListing = {
    ids: [],
    firstSightIds: [],
    setAsideIds: [],
    complete: true,
    since: null,
  };
  const stop = await followPages(
    async (pageToken) => {
      const page = await acts.syncEmployeesPage({
        landing: input.landing,
        branchId: branch.id,
        pageToken,
        // Landed with the answer: a replay of this run reads the same window (see below).
        ...(input.completeness ? { window } : {}),
      });
      if (page.landedWindow !== undefined) listing.landedWindow ??= page.landedWindow;
      out.pages++;
      addCounts(out.counts, page.counts);
      for (const id of page.salespersonIds) unique.add(id);
      listing.firstSightIds.push(...(page.firstSightIds ?? []));
      listing.setAsideIds.push(...(page.setAsideIds ?? []));
      // A page from a worker that does not report its evidence proves nothing.
      if (page.fetchedAt === undefined || (page.unaccounted ?? 0) > 0) listing.complete = false;
      listing.since ??= page.fetchedAt ?? null;
      return page;
    },
    (token, seen) =>
      seen.has(token)
        ? `the vendor repeated page token ${JSON.stringify(token)}; stopped paging after ${seen.size + 1} pages`
        : out.pages >= MAX_PAGES_PER_LIST
          ? `more than ${MAX_PAGES_PER_LIST} pages; stopped paging`
          : undefined,
  );
  if (stop) {
    out.pagingStops.push({ list: `employees of branch ${input.name}`, reason: stop });
    listing.complete = false;
  }
  listing.ids = [...unique];
  listing.firstSightIds = [...new Set(listing.firstSightIds)];
  return listing;
}

/**
 * Runs the salesperson child of `employeeId`. `resetRunId`: see resetRunIdOf; a reset of this
 * branch is a request to sync it again, so its children must not be mistaken for another
 * branch's.
 */
async function syncSalesperson(
  input: BranchSyncInput,
  branch: BranchRef,
  employeeId: string,
  resetRunId: string | undefined,
  window: SyncWindow | null,
): Promise<SalespersonSyncOutput> {
  const options = (workflowId: string) => ({
    workflowId,
    // The ID names the salesperson and the parent run, not the branch: when another
    // branch of this run has started (or finished) it, the start fails and this branch
    // does not fetch the same sales again.
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    args: [
      {
        employeeId,
        branchId: branch.id,
        branchName: input.name,
        window,
        vendorTaskQueue: input.vendorTaskQueue,
        landing: input.landing,
        historyBudget: input.historyBudget,
        ...(input.completeness ? { voids: { guardPercent: input.completeness.voidGuardPercent } } : {}),
      },
    ] as [SalespersonSyncInput],
    typedSearchAttributes: childSearchAttributes(
      input.searchAttributes,
      input.name,
      'salesperson',
      input.window?.to ?? null,
    ),
    staticSummary: `Sales of salesperson ${employeeId} (branch ${input.name})`,
  });
  // A window widened to this branch's watermark is part of the ID: another branch syncing the same
  // salesperson over the run's own window must not stand in for it, or this branch's watermark
  // would move past sales nobody read. A whole history needs none: every branch of the run sees the
  // same first-sight state, and a whole history covers any window another branch asks for.
  const widened = window !== null && input.window !== null && window.from !== input.window.from;
  const own = widened ? `/window/${encodeURIComponent(window.from)}` : '';
  const id = salespersonWorkflowId(input.scope, input.runId, employeeId) + own;
  try {
    return await executeChild(salespersonSyncWorkflow, options(id));
  } catch (err) {
    // After a reset the ID may be taken by this branch's own earlier run: start again
    // under an ID of this run (the decision depends only on this run, so replay agrees).
    if (!(err instanceof WorkflowExecutionAlreadyStartedError) || !resetRunId) throw err;
    return await executeChild(salespersonSyncWorkflow, options(`${id}/reset/${resetRunId}`));
  }
}

/** What the salesperson children of one branch run share. */
interface SalespersonRuns {
  input: BranchSyncInput;
  branch: BranchRef;
  /** The branch's window (after widening); a first-sight salesperson reads every sale instead. */
  window: SyncWindow | null;
  firstSight: ReadonlySet<string>;
  /** First-sight salespersons whose whole history was read completely. */
  loadedIds: string[];
  out: BranchSyncOutput;
  total: number;
  resetRunId: string | undefined;
}

/** Runs one salesperson's child and adds what it did to the branch's output. */
async function runSalesperson(run: SalespersonRuns, employeeId: string): Promise<void> {
  const { input, out } = run;
  try {
    const own = run.firstSight.has(employeeId) ? null : run.window;
    const r = await syncSalesperson(input, run.branch, employeeId, run.resetRunId, own);
    if (r.vanished) out.vanishedSalespersons.push(employeeId);
    out.pages += r.pages;
    addCounts(out.counts, r.counts);
    if (r.pagingStop) out.pagingStops.push(r.pagingStop);
    if (!r.vanished) out.salespersons++;
    addVoids(out, input.name, employeeId, r);
    if (input.completeness && run.firstSight.has(employeeId) && !r.pagingStop && !r.vanished)
      run.loadedIds.push(employeeId);
  } catch (err) {
    // Another branch of this run lists the same salesperson and has its child.
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      out.salespersonsShared++;
      return;
    }
    out.failedSalespersons.push({ employeeId, reason: reasonOf(err) });
  }
  // The Web UI shows it while the branch runs: a widened window or a first load explains a long run.
  const widened = out.completeness?.widened[0];
  const why = out.completeness?.firstSightBranches.length
    ? '; first sync: whole history'
    : widened
      ? `; window from ${widened.from}: ${widened.reason}`
      : '';
  setCurrentDetails(`${out.salespersons}/${run.total} salespersons synced${why}`);
}

/** Syncs one branch and its salespersons' sales (its window as completeness decides, see branch-state.ts). */
export async function branchSyncWorkflow(input: BranchSyncInput): Promise<BranchSyncOutput> {
  const acts = vendorActivities(input.vendorTaskQueue);
  // Set by a parent that keeps the copy complete (never on replays); absent in older runs.
  const c = input.completeness;
  let out: BranchSyncOutput;
  let branch: BranchRef;
  let ids: string[];
  let window = input.window;
  let firstSight = new Set<string>();
  let loadedIds: string[] = [];
  let listingComplete = false;
  let nextIndex: number;

  if (input.resume) {
    ({ branch, salespersonIds: ids, nextIndex, partial: out } = input.resume);
    if (input.resume.window !== undefined) window = input.resume.window;
    firstSight = new Set(input.resume.firstSightIds ?? []);
    loadedIds = input.resume.loadedIds ?? [];
    listingComplete = input.resume.listingComplete === true;
  } else {
    out = newBranchOutput(input.name);
    const found = await lookUp(input, acts, out);
    if (!found) {
      out.status = 'unknown';
      return out;
    }
    branch = found;
    out.branchId = branch.id;
    if (c) window = await resolveBranchWindow(input, c, branch.id, out);
    const listing = await listSalespersons(input, acts, branch, out, window);
    ids = listing.ids;
    // A replay reads the window its run's branch read when it was widened to a watermark (a
    // whole-history read lands as null, like an answer landed before windows were recorded:
    // syncSalesPage finds those answers itself).
    if (input.landing.replay && listing.landedWindow) window = listing.landedWindow;
    if (c) {
      firstSight = new Set(listing.firstSightIds);
      listingComplete = await markDepartures(input, c, branch.id, listing, out.pagingStops.length > 0, out);
    }
    nextIndex = 0;
  }

  const run: SalespersonRuns = {
    input,
    branch,
    window,
    firstSight,
    loadedIds,
    out,
    total: ids.length,
    resetRunId: resetRunIdOf(workflowInfo(), input.resume?.resetRunId),
  };
  nextIndex = await slidingWindow(
    ids,
    nextIndex,
    input.salespersonConcurrency,
    (employeeId) => runSalesperson(run, employeeId),
    () => historyFull(input.historyBudget),
  );
  if (nextIndex < ids.length) {
    await continueAsNew<typeof branchSyncWorkflow>({
      ...input,
      resume: {
        branch,
        salespersonIds: ids,
        nextIndex,
        partial: out,
        resetRunId: run.resetRunId,
        ...(c ? { window, firstSightIds: [...firstSight], loadedIds, listingComplete } : {}),
      },
    });
  }
  if (c) await finishBranch(input, c, branch.id, loadedIds, listingComplete, out);
  return succeededOrFailed(input, out, ids.length);
}

/** The branch's output, or its failure (with the output) when salesperson children failed. */
function succeededOrFailed(input: BranchSyncInput, out: BranchSyncOutput, total: number): BranchSyncOutput {
  const first = out.failedSalespersons[0];
  if (!first) return out;
  throw ApplicationFailure.create({
    type: 'BranchSyncFailed',
    message: `branch ${input.name}: ${out.failedSalespersons.length} of ${total} salespersons failed after retries (first: ${first.employeeId}: ${first.reason})`,
    nonRetryable: true,
    details: [out],
  });
}
