/**
 * Run summaries: every outcome of a run is counted here, so the Web UI, the CLI, the
 * notifications and (later) metrics read one shape. Pure functions: used by workflows.
 */
import { type Completeness, describeCompleteness } from './completeness.js';
import { SYNCED_TABLES, type SyncedTable } from './tables.js';

/** What happened to the records of one table in a run. */
export interface TableCounts {
  /** Records received from the vendor (good and bad). */
  fetched: number;
  /** Written because no item had this key. */
  inserted: number;
  /** Written because the stored content differed. */
  updated: number;
  /** Equal to what was stored: no write. */
  unchanged: number;
  /** Failed validation: put in the quarantine table, not stored as data. */
  setAside: number;
  /**
   * A replay's records left alone because the stored item was fetched later than the landed
   * answer (a correction stored since): never written back. Absent in summaries of older runs.
   */
  newerKept?: number;
}

/**
 * What started a run: the schedule, a person (`run`), a backfill of past hours, a lookback
 * sweep's schedule (`sweep`: the last days; `full sweep`: every sale), or a replay of landed
 * answers (a dry run writes nothing).
 */
export type RunKind =
  'scheduled' | 'manual' | 'backfill' | 'sweep' | 'full sweep' | 'replay' | 'dry-run replay';

/** The three synced tables (SYNCED_TABLES). */
export type TableName = SyncedTable;

/** Counts per table. */
export type Counts = Record<TableName, TableCounts>;

/** A list the run stopped paging before its end, and why. */
export interface PagingStop {
  list: string;
  reason: string;
}

/** A branch whose child workflow failed. */
export interface FailedBranch {
  branch: string;
  reason: string;
}

/** The result of a parent run, and its progress while it runs. */
export interface SyncSummary {
  window: { from: string | null; to: string };
  /** What started the run (absent in summaries of runs started before it was recorded). */
  kind?: RunKind;
  /** A replay with --force: landed content was written over items fetched later (a restore). */
  forced?: boolean;
  branchesRequested: number;
  branchesSynced: number;
  /** Salespersons whose sales were synced (each once, however many branches list it). */
  salespersonsSynced: number;
  /**
   * Listings of a salesperson under a second branch (a transfer in progress): its sales were
   * synced once, through the first branch. salespersonsSynced + salespersonsShared = listings.
   */
  salespersonsShared: number;
  /** Vendor pages fetched (one request each, retries not counted). */
  pages: number;
  counts: Counts;
  unknownBranches: string[];
  failedBranches: FailedBranch[];
  /** Branches another run was already syncing over the same window (its child ID was taken). */
  skippedBranches: string[];
  /** Salespersons listed by their branch whose sales the vendor then answered 404 for (gone meanwhile). */
  vanishedSalespersons: { branch: string; employeeId: string }[];
  pagingStops: PagingStop[];
  /** Where the run's notice went ("webhook", "sns"), or why sending it failed; null when none was due. */
  notice: string | null;
  /** Outcome of the follow-up step after an all-succeeded run; null when it did not run. */
  followUp: string | null;
  /** How the run's row reaches `sync_runs` in PostgreSQL ('handed to <child workflow ID>', 'recorded', or why not); absent when not tried. */
  syncRun?: string;
  /** First loads, widened windows, voids and departures (absent in summaries of older runs). */
  completeness?: Completeness;
}

/** Zero counts for one table. */
export function emptyTableCounts(): TableCounts {
  return { fetched: 0, inserted: 0, updated: 0, unchanged: 0, setAside: 0, newerKept: 0 };
}

/** Zero counts for all tables. */
export function emptyCounts(): Counts {
  return { branches: emptyTableCounts(), salespersons: emptyTableCounts(), sales: emptyTableCounts() };
}

/** Adds `b` into `a` (mutates and returns `a`). */
function addTableCounts(a: TableCounts, b: TableCounts): TableCounts {
  a.fetched += b.fetched;
  a.inserted += b.inserted;
  a.updated += b.updated;
  a.unchanged += b.unchanged;
  a.setAside += b.setAside;
  // Optional: a summary carried across continue-as-new from an older version has none.
  if (a.newerKept !== undefined || b.newerKept !== undefined)
    a.newerKept = (a.newerKept ?? 0) + (b.newerKept ?? 0);
  return a;
}

/** Adds every table of `b` into `a` (mutates and returns `a`). */
export function addCounts(a: Counts, b: Partial<Counts>): Counts {
  for (const t of SYNCED_TABLES) {
    const other = b[t];
    if (other) addTableCounts(a[t], other);
  }
  return a;
}

/** Items written (inserted + updated) over all tables. */
export function itemsWritten(c: Counts): number {
  return (
    c.branches.inserted +
    c.branches.updated +
    c.salespersons.inserted +
    c.salespersons.updated +
    c.sales.inserted +
    c.sales.updated
  );
}

/** One line a person can read: used as the run's summary in logs, the CLI and notifications. */
export function describeSummary(s: SyncSummary): string {
  const t = (name: TableName) => {
    const c = s.counts[name];
    const kept = c.newerKept ? `, ${c.newerKept} newer kept` : '';
    return `${name}: ${c.fetched} fetched, ${c.inserted} new, ${c.updated} updated, ${c.unchanged} unchanged${kept}, ${c.setAside} set aside`;
  };
  const parts = [
    ...(s.kind && s.kind !== 'scheduled' && s.kind !== 'manual' ? [s.kind] : []),
    ...(s.forced ? ['--force: older landed content written over newer'] : []),
    `${s.branchesSynced}/${s.branchesRequested} branches, ${s.salespersonsSynced} salespersons${
      s.salespersonsShared ? ` (+${s.salespersonsShared} listed under a second branch)` : ''
    }, ${s.pages} pages`,
    t('branches'),
    t('salespersons'),
    t('sales'),
  ];
  if (s.unknownBranches.length) parts.push(`unknown branches: ${s.unknownBranches.join(', ')}`);
  if (s.failedBranches.length)
    parts.push(`failed: ${s.failedBranches.map((f) => `${f.branch} (${f.reason})`).join('; ')}`);
  if (s.skippedBranches.length) parts.push(`already running elsewhere: ${s.skippedBranches.join(', ')}`);
  if (s.vanishedSalespersons?.length)
    parts.push(
      `salespersons gone from the vendor since listed: ${s.vanishedSalespersons.map((v) => `${v.employeeId} (${v.branch})`).join(', ')}`,
    );
  if (s.pagingStops.length)
    parts.push(`paging stopped: ${s.pagingStops.map((p) => `${p.list}: ${p.reason}`).join('; ')}`);
  if (s.notice) parts.push(`notice ${s.notice}`);
  if (s.followUp) parts.push(`follow-up ${s.followUp}`);
  if (s.syncRun?.startsWith('not recorded')) parts.push(`sync_runs ${s.syncRun}`);
  const completeness = describeCompleteness(s.completeness);
  if (completeness) parts.push(completeness);
  return parts.join(' | ');
}
