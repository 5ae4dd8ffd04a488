/**
 * A branch child's part in keeping the copy complete: its window (reaching back to its
 * watermark, or its whole history on first sight), its departures, the first loads of its
 * salespersons, and its watermark moved forward once its window was read completely.
 * Deterministic code only; the state activities run on the workflow task queue.
 */
import { workflowInfo } from '@temporalio/workflow';
import type { SyncWindow } from '../activities/types.js';
import { stateActivities } from './common.js';
import {
  type Completeness,
  FIRST_SIGHT_IDS_KEPT,
  addCompleteness,
  branchWindow,
  emptyCompleteness,
} from '../shared/completeness.js';
import type {
  BranchCompletenessInput,
  BranchSyncInput,
  BranchSyncOutput,
  SalespersonSyncOutput,
} from './types.js';

/** DynamoDB-only steps (common.ts, stateActivities). */
const state = stateActivities();

/** Ids recorded per markHistoryLoaded call: keeps each payload small. */
const LOADED_CHUNK = 500;

/** What a branch's employee listing proves, page by page. */
export interface EmployeeListing {
  ids: string[];
  firstSightIds: string[];
  setAsideIds: string[];
  /** Every page came from a worker that reports its evidence, and held no record without a readable id. */
  complete: boolean;
  /** When the first page arrived (the worker's clock). */
  since: string | null;
  /** A replay: the window the run's branch read under, as landed (absent: not recorded). */
  landedWindow?: SyncWindow | null;
}

/** The writer every state activity of this branch records. */
function writer(): { workflowId: string; runId: string } {
  const info = workflowInfo();
  return { workflowId: info.workflowId, runId: info.runId };
}

/** The branch's completeness part (created on first use). */
export function completenessOf(out: BranchSyncOutput): Completeness {
  out.completeness ??= emptyCompleteness();
  return out.completeness;
}

/** The branch's window after reading its watermark; records first sight and widening in `out`. */
export async function resolveBranchWindow(
  input: BranchSyncInput,
  c: BranchCompletenessInput,
  branchId: string,
  out: BranchSyncOutput,
): Promise<SyncWindow | null> {
  const { watermark } = await state.branchState({ branchId });
  const w = branchWindow(input.window, watermark, c.overlapMinutes);
  const comp = completenessOf(out);
  if (w.firstSight) comp.firstSightBranches.push(input.name);
  if (w.widened) comp.widened.push({ branch: input.name, ...w.widened });
  return w.window;
}

/**
 * Marks the memberships the complete listing no longer holds (nothing on partial evidence).
 * Returns whether the listing accounts for every salesperson (the watermark may then move).
 */
export async function markDepartures(
  input: BranchSyncInput,
  c: BranchCompletenessInput,
  branchId: string,
  listing: EmployeeListing,
  pagingStopped: boolean,
  out: BranchSyncOutput,
): Promise<boolean> {
  const comp = completenessOf(out);
  comp.firstSightSalespersons += listing.firstSightIds.length;
  comp.firstSightSalespersonIds = [...comp.firstSightSalespersonIds, ...listing.firstSightIds].slice(
    0,
    FIRST_SIGHT_IDS_KEPT,
  );
  if (pagingStopped || !listing.complete || listing.since === null) return false;
  const r = await state.markDepartures({
    branchId,
    listedIds: listing.ids,
    keepIds: listing.setAsideIds,
    listedSince: listing.since,
    guardPercent: c.voidGuardPercent,
    writer: writer(),
  });
  comp.departed += r.departed;
  if (r.guardedWouldLeave !== undefined)
    comp.departureGuarded.push({ branch: input.name, wouldLeave: r.guardedWouldLeave, stored: r.stored });
  // Complete evidence for the watermark too: every salesperson listed has a child to read it.
  return listing.setAsideIds.length === 0 && r.guardedWouldLeave === undefined;
}

/** Adds a salesperson child's void check to the branch's part. */
export function addVoids(
  out: BranchSyncOutput,
  name: string,
  employeeId: string,
  r: SalespersonSyncOutput,
): void {
  if (!r.voids && !r.voidSkip) return;
  const comp = completenessOf(out);
  const part = emptyCompleteness();
  if (r.voidSkip) part.voidChecksSkipped[r.voidSkip] = 1;
  if (r.voids) {
    part.voided = r.voids.voided;
    part.restored = r.voids.restored ?? 0;
    if (r.voids.guardedWouldVoid !== undefined) {
      part.voidGuardTrips = 1;
      part.voidGuarded.push({
        branch: name,
        employeeId,
        wouldVoid: r.voids.guardedWouldVoid,
        stored: r.voids.stored,
      });
    }
  }
  addCompleteness(comp, part);
}

/**
 * The end of a branch: records the first loads that completed, and when the whole window was
 * read (no failed salesperson, no paging stop) moves the watermark forward (never back) and
 * records the run, and a sweep as the branch's last.
 */
export async function finishBranch(
  input: BranchSyncInput,
  c: BranchCompletenessInput,
  branchId: string,
  loadedIds: string[],
  listingComplete: boolean,
  out: BranchSyncOutput,
): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < loadedIds.length; i += LOADED_CHUNK)
    await state.markHistoryLoaded({
      employeeIds: loadedIds.slice(i, i + LOADED_CHUNK),
      at: now,
      writer: writer(),
    });
  // Every salesperson's window read: none failed, no list stopped early, and the employee list
  // accounted for everyone (a salesperson whose record was set aside had no child; a listing the
  // departure guard distrusted may have left salespersons out).
  if (out.failedSalespersons.length > 0 || out.pagingStops.length > 0 || !listingComplete) return;
  const comp = completenessOf(out);
  const widenedFrom = comp.widened.find((w) => w.branch === input.name)?.from;
  const r = await state.advanceBranch({
    branchId,
    branchName: input.name,
    watermark: c.windowEnd,
    ...(c.sweep ? { sweep: { kind: c.sweep, at: c.windowEnd } } : {}),
    lastRun: {
      workflowId: workflowInfo().parent?.workflowId ?? workflowInfo().workflowId,
      at: now,
      voided: comp.voided,
      departed: comp.departed,
      ...(widenedFrom
        ? { widenedFrom }
        : comp.firstSightBranches.includes(input.name)
          ? { widenedFrom: 'the whole history (first sync)' }
          : {}),
    },
  });
  comp.watermarks.push({ branch: input.name, watermark: r.watermark });
}
