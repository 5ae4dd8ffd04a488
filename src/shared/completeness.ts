/**
 * Completeness by construction (docs/architecture.md, "Windows, watermarks, sweeps, voids"):
 * what a run reports about first loads, widened windows, voids and departures, and the
 * defaults of the settings that steer them. Pure data and functions: workflow code imports it.
 */

/** Item attribute a sale carries once the vendor stopped listing it (ISO instant); absent while listed. */
export const VOIDED_AT = 'voided_at';
/** Item attribute a salesperson membership carries once the branch stopped listing the salesperson. */
export const LEFT_AT = 'left_at';

/**
 * Overlap subtracted from a branch's watermark when a run's window starts after it: a sale the
 * vendor lists a few minutes late (clock skew, its own batching) is still read.
 */
export const DEFAULT_WATERMARK_OVERLAP_MINUTES = 60;

/**
 * A complete listing may void at most this share of the window's stored sales (or a branch's
 * stored memberships); more voids nothing and is reported: an empty answer from a struggling
 * vendor must not wipe the copy.
 */
export const DEFAULT_VOID_GUARD_PERCENT = 20;

/**
 * A listing that holds anything may always void this many, whatever the share: one voided sale of
 * a salesperson with three sales in the hour's window is 33%, and must not be held back.
 */
export const VOID_GUARD_FLOOR = 1;

/**
 * Listed ids a salesperson child keeps to compare with the stored sales. Above it the listing
 * is not checked for voids (reported as skipped): the ids travel through workflow history,
 * whose payloads are capped at 2 MB.
 */
export const VOID_CHECK_MAX_LISTED = 25_000;

/** Ids of first-sight salespersons a summary names (it counts all of them). */
export const FIRST_SIGHT_IDS_KEPT = 50;

/** Guarded entries a summary names (it counts all of them). */
export const GUARDED_KEPT = 50;

/**
 * True when `wouldVoid` of `stored` is more than the guard lets through. `listed`: how many the
 * listing held; an empty listing gets no floor (a struggling vendor answering nothing must not
 * void even a salesperson's only sale).
 */
export function voidGuardTrips(wouldVoid: number, stored: number, percent: number, listed: number): boolean {
  if (wouldVoid <= VOID_GUARD_FLOOR && listed > 0) return false;
  return wouldVoid * 100 > percent * stored;
}

/** What a salesperson child found out about voids in its window. */
export interface VoidCheck {
  /** Stored sales of the salesperson in the window (not voided) before the check. */
  stored: number;
  /** Sales marked voided. */
  voided: number;
  /** Voided sales listed again (their mark cleared by the upsert). */
  restored?: number;
  /** Set when the guard held the voids back: how many would have been voided. */
  guardedWouldVoid?: number;
}

/** Why a listing was not checked for voids (no void on partial evidence). */
export type VoidSkip =
  | 'paging stopped'
  | 'records without a readable id were set aside'
  /** A page answered by a worker that does not report what it listed (a deploy in progress). */
  | 'pages without evidence'
  | 'replay'
  | 'listing too large'
  | 'salesperson gone';

/** The completeness part of a run's summary (absent in summaries of older runs). */
export interface Completeness {
  /** Branches synced for the first time: their whole history was read. */
  firstSightBranches: string[];
  /** Salespersons seen for the first time (under any branch) whose whole history was read. */
  firstSightSalespersons: number;
  /** The first FIRST_SIGHT_IDS_KEPT of them. */
  firstSightSalespersonIds: string[];
  /** Branch windows that reached back to the branch's watermark, and why. */
  widened: { branch: string; from: string; reason: string }[];
  /** Sales marked voided (no longer listed by a complete listing of their window). */
  voided: number;
  /** Voided sales listed again. */
  restored: number;
  /** Listings whose voids the guard held back (the first GUARDED_KEPT). */
  voidGuarded: { branch: string; employeeId: string; wouldVoid: number; stored: number }[];
  /** How many listings the guard held back. */
  voidGuardTrips: number;
  /** Listings not checked for voids (incomplete, too large, a replay), by reason. */
  voidChecksSkipped: Partial<Record<VoidSkip, number>>;
  /** Memberships marked left (a salesperson no longer listed under a branch). */
  departed: number;
  /** Branches whose departures the guard held back. */
  departureGuarded: { branch: string; wouldLeave: number; stored: number }[];
  /** Branches whose watermark this run moved forward, and to where. */
  watermarks: { branch: string; watermark: string }[];
}

/** A completeness part with nothing in it. */
export function emptyCompleteness(): Completeness {
  return {
    firstSightBranches: [],
    firstSightSalespersons: 0,
    firstSightSalespersonIds: [],
    widened: [],
    voided: 0,
    restored: 0,
    voidGuarded: [],
    voidGuardTrips: 0,
    voidChecksSkipped: {},
    departed: 0,
    departureGuarded: [],
    watermarks: [],
  };
}

/** Adds `b` into `a` (mutates and returns `a`), keeping the named lists bounded. */
export function addCompleteness(a: Completeness, b: Completeness | undefined): Completeness {
  if (!b) return a;
  a.firstSightBranches.push(...b.firstSightBranches);
  a.firstSightSalespersons += b.firstSightSalespersons;
  a.firstSightSalespersonIds = [...a.firstSightSalespersonIds, ...b.firstSightSalespersonIds].slice(
    0,
    FIRST_SIGHT_IDS_KEPT,
  );
  a.widened.push(...b.widened);
  a.voided += b.voided;
  a.restored += b.restored;
  a.voidGuarded = [...a.voidGuarded, ...b.voidGuarded].slice(0, GUARDED_KEPT);
  a.voidGuardTrips += b.voidGuardTrips;
  for (const [k, n] of Object.entries(b.voidChecksSkipped) as [VoidSkip, number][])
    a.voidChecksSkipped[k] = (a.voidChecksSkipped[k] ?? 0) + n;
  a.departed += b.departed;
  a.departureGuarded.push(...b.departureGuarded);
  a.watermarks.push(...b.watermarks);
  return a;
}

/** One line a person can read, or '' when there is nothing to say. */
export function describeCompleteness(c: Completeness | undefined): string {
  if (!c) return '';
  const parts: string[] = [];
  if (c.firstSightBranches.length)
    parts.push(`first sync (whole history): ${c.firstSightBranches.join(', ')}`);
  if (c.firstSightSalespersons)
    parts.push(`${c.firstSightSalespersons} salespersons seen for the first time (whole history)`);
  for (const w of c.widened) parts.push(`${w.branch}: window from ${w.from} (${w.reason})`);
  if (c.voided || c.restored) parts.push(`${c.voided} sales voided, ${c.restored} listed again`);
  if (c.voidGuardTrips)
    parts.push(`void guard held back ${c.voidGuardTrips} listings (nothing voided there)`);
  if (c.departed) parts.push(`${c.departed} salespersons left their branch`);
  for (const d of c.departureGuarded)
    parts.push(`${d.branch}: departure guard held back ${d.wouldLeave} of ${d.stored}`);
  return parts.join(' | ');
}

/** A window as the workflows pass it (ISO instants). */
interface Window {
  from: string;
  to: string;
}

/** The window a branch reads, given the run's window and the branch's watermark. */
export interface BranchWindow {
  /** Null: every sale (a full resync, or a branch never synced completely). */
  window: Window | null;
  /** The branch has no watermark: never synced completely. */
  firstSight: boolean;
  /** Set when the window was widened back to the watermark: from where, and why. */
  widened?: { from: string; reason: string };
}

/**
 * A branch's window: the run's own, reaching back to the watermark less the overlap when the
 * watermark lies before its start (an outage of any length leaves no gap), or the whole
 * history when the branch has no watermark yet.
 */
export function branchWindow(
  run: Window | null,
  watermark: string | null,
  overlapMinutes: number,
): BranchWindow {
  if (watermark === null) return { window: null, firstSight: true };
  if (run === null) return { window: null, firstSight: false };
  const start = Date.parse(watermark) - overlapMinutes * 60_000;
  if (!(start < Date.parse(run.from))) return { window: run, firstSight: false };
  const from = new Date(start).toISOString();
  return {
    window: { from, to: run.to },
    firstSight: false,
    widened: {
      from,
      reason: `the last complete window ended ${watermark}, before this window's start ${run.from} (overlap ${overlapMinutes} min)`,
    },
  };
}
