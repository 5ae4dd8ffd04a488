/**
 * Activities: the side effects of the sync. Each activity attempt makes exactly one vendor
 * request (so the vendor task queue's rate limit is the vendor's quota), validates what
 * came back, and writes through the store. Only keys, cursors and counts go back to the
 * workflow: records never enter workflow history.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import {
  SyncError,
  VendorBadBodyError,
  VendorHttpError,
  VendorRateLimitedError,
  VendorUnavailableError,
} from '../shared/errors.js';
import { emptyTableCounts, type Counts, type TableCounts } from '../shared/summary.js';
import type { SetAside, Store, UpsertResult, WriteContext } from '../store/index.js';
import { type VendorClient, type VendorPage } from '../vendor-api/client.js';
import {
  type EmployeeRecord,
  formatVendorTimestamp,
  idKey,
  parseVendorTimestamp,
} from '../vendor-api/schemas.js';
import { validateRecords } from '../vendor-api/validate.js';

/** What the activities need, built once per worker process (tests pass their own). */
export interface ActivityDeps {
  vendor: VendorClient;
  store: Store;
  /** Page size asked of the vendor for every list. */
  pageSize: number;
}

/** A branch as the workflows know it: key and name only. Ids are decimal digits (they may exceed 2^53). */
export interface BranchRef {
  id: string;
  name: string;
}

export interface LookupBranchInput {
  name: string;
}
export interface LookupBranchOutput {
  /** Null when the vendor has no branch of that exact name. */
  branch: BranchRef | null;
  counts: Partial<Counts>;
}

export interface ListBranchesPageInput {
  pageToken: string | null;
}
export interface ListBranchesPageOutput {
  branches: BranchRef[];
  nextPageToken: string | null;
  counts: Partial<Counts>;
}

export interface SyncEmployeesPageInput {
  branchId: string;
  pageToken: string | null;
}
export interface SyncEmployeesPageOutput {
  /** Ids of the valid salespersons on this page. */
  salespersonIds: string[];
  nextPageToken: string | null;
  counts: Partial<Counts>;
}

/** A sales window as ISO instants; the vendor is asked with its own timestamp form. */
export interface SyncWindow {
  from: string;
  to: string;
}

export interface SyncSalesPageInput {
  employeeId: string;
  branchId: string;
  /** Null: every sale (full resync). */
  window: SyncWindow | null;
  pageToken: string | null;
}
export interface SyncSalesPageOutput {
  nextPageToken: string | null;
  counts: Partial<Counts>;
  /**
   * The vendor answered 404 for this salesperson: it was listed moments ago and is gone now
   * (left the company, moved). Not a failure; the run reports it.
   */
  vanished?: boolean;
}

/** Shortest wait after a 429, whatever Retry-After said: `0` or no header must never mean a tight loop. */
export const MIN_RATE_LIMIT_DELAY_MS = 1000;
/** Longest wait honoured from a Retry-After header. */
const MAX_RATE_LIMIT_DELAY_MS = 5 * 60_000;

/**
 * Drops sales whose timestamp is readable and outside the window, before validation: a
 * server that ignores from/to must not make an old malformed sale be set aside (and
 * notified) every hour. A sale whose timestamp cannot be read stays, and is judged.
 */
function inWindowOnly(records: unknown[], window: { from: string; to: string }): unknown[] {
  const from = parseVendorTimestamp(window.from) ?? -Infinity;
  const to = parseVendorTimestamp(window.to) ?? Infinity;
  return records.filter((r) => {
    const ts = (r as { transaction_timestamp?: unknown } | null)?.transaction_timestamp;
    const ms = typeof ts === 'string' ? parseVendorTimestamp(ts) : undefined;
    return ms === undefined || (ms >= from && ms < to);
  });
}

/**
 * Turns an error into the Temporal failure that carries the right retry decision:
 * 429 -> retry after Retry-After (at least MIN_RATE_LIMIT_DELAY_MS); other 4xx -> never
 * retry (the same request cannot succeed); 5xx, network, timeouts, bad bodies -> retry
 * under the activity's retry policy.
 */
export function toFailure(err: unknown): Error {
  if (err instanceof VendorRateLimitedError) {
    const asked = err.retryAfterMs ?? 0;
    const delay = Math.min(MAX_RATE_LIMIT_DELAY_MS, Math.max(MIN_RATE_LIMIT_DELAY_MS, asked));
    return ApplicationFailure.create({
      type: 'VendorRateLimited',
      message: `${err.message}; retrying in ${delay} ms (Retry-After: ${err.retryAfterMs === undefined ? 'absent' : `${asked} ms`})`,
      nextRetryDelay: delay,
    });
  }
  if (err instanceof VendorHttpError) {
    // 3xx here is a redirect to another host (or a broken one): asking again cannot help.
    const clientError = err.status >= 300 && err.status < 500;
    return ApplicationFailure.create({
      type: clientError ? 'VendorRequestRejected' : 'VendorServerError',
      message: err.message,
      nonRetryable: clientError,
    });
  }
  if (err instanceof VendorBadBodyError)
    return ApplicationFailure.create({ type: 'VendorBadBody', message: err.message });
  if (err instanceof VendorUnavailableError) {
    return ApplicationFailure.create({ type: 'VendorUnavailable', message: err.message });
  }
  if (err instanceof SyncError) return ApplicationFailure.create({ type: err.name, message: err.message });
  return err instanceof Error ? err : new Error(String(err));
}

/** Tells Temporal this attempt is alive (see heartbeatTimeout in the workflows' activity options). */
function heartbeat(): void {
  Context.current().heartbeat();
}

/**
 * Heartbeats every few seconds while `fn` runs (the SDK sends at most one per 80% of the
 * heartbeat timeout), so a slow answer or a long write is never mistaken for a lost worker;
 * a worker that is really gone stops heartbeating and its attempt is retried elsewhere.
 */
async function alive<T>(fn: () => Promise<T>): Promise<T> {
  heartbeat();
  const timer = setInterval(heartbeat, HEARTBEAT_EVERY_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/** Heartbeat period of a running activity; the workflows' heartbeat timeout is 15 s. */
const HEARTBEAT_EVERY_MS = 3_000;

/**
 * The attempt's cancellation signal: aborted when Temporal gave this attempt up (timed out,
 * cancelled, or the server no longer knows it), so the store writes nothing more.
 */
function attemptSignal(): AbortSignal {
  return Context.current().cancellationSignal;
}

function writeContext(): WriteContext {
  const wf = Context.current().info.workflowExecution;
  return { workflowId: wf?.workflowId ?? 'standalone-activity', runId: wf?.runId ?? '' };
}

/** Builds the activities around their dependencies (the worker builds them once). */
export function createActivities(deps: ActivityDeps) {
  const { vendor, store, pageSize } = deps;

  /** One vendor request; a bad body is set aside (so it can be inspected) before the attempt fails. */
  async function fetchPage(ctx: WriteContext, request: () => Promise<VendorPage>): Promise<VendorPage>;
  /** The same, answering null when the vendor says 404 (the id is gone). */
  async function fetchPage(
    ctx: WriteContext,
    request: () => Promise<VendorPage>,
    notFound: 'null',
  ): Promise<VendorPage | null>;
  async function fetchPage(
    ctx: WriteContext,
    request: () => Promise<VendorPage>,
    notFound?: 'null',
  ): Promise<VendorPage | null> {
    try {
      return await request();
    } catch (err) {
      if (notFound && err instanceof VendorHttpError && err.status === 404) return null;
      if (err instanceof VendorBadBodyError) {
        await store.quarantine(
          [{ kind: 'body', reason: err.message, raw: err.body, request: err.request }],
          ctx,
        );
      }
      throw toFailure(err);
    }
  }

  /** Options of every store call of this attempt: it stops writing once Temporal gives the attempt up. */
  const signal = () => ({ signal: attemptSignal() });

  /** The records of `records` the store did not refuse. */
  const storedOnly = <R>(records: R[], written: UpsertResult): R[] =>
    records.filter((r) => !written.rejected.some((x) => x.source === r));

  /** Sets aside what validation and the store refused; returns the page's counts for one table. */
  async function countsOf(
    kind: SetAside['kind'],
    request: string,
    bad: SetAside[],
    fetched: number,
    written: UpsertResult,
    ctx: WriteContext,
  ): Promise<TableCounts> {
    const setAside = [
      ...bad,
      ...written.rejected.map((r) => ({
        kind,
        reason: `cannot be stored as sent: ${r.reason}`,
        raw: r.source,
        request,
      })),
    ];
    if (setAside.length) await store.quarantine(setAside, ctx, signal());
    const { inserted, updated, unchanged } = written;
    return { ...emptyTableCounts(), fetched, setAside: setAside.length, inserted, updated, unchanged };
  }

  return {
    /** `/branches?branch=NAME`, then upserts the branch. */
    lookupBranch: (input: LookupBranchInput): Promise<LookupBranchOutput> =>
      alive(async () => {
        const ctx = writeContext();
        const page = await fetchPage(ctx, () => vendor.branchByName(input.name));
        const { good, bad } = validateRecords('branch', page.records, page.request);
        // The API filters by name; keep only exact matches in case a server does not.
        const matches = good.filter((b) => b.branch_name === input.name);
        const written = await store.upsertBranches(matches, ctx, signal());
        const branches = await countsOf('branch', page.request, bad, page.records.length, written, ctx);
        const [stored] = storedOnly(matches, written);
        return {
          branch: stored ? { id: idKey(stored.id), name: stored.branch_name } : null,
          counts: { branches },
        };
      }),

    /** One page of `/branches` without a name (all branches), upserting them. */
    listBranchesPage: (input: ListBranchesPageInput): Promise<ListBranchesPageOutput> =>
      alive(async () => {
        const ctx = writeContext();
        const page = await fetchPage(ctx, () => vendor.allBranches({ pageSize, pageToken: input.pageToken }));
        const { good, bad } = validateRecords('branch', page.records, page.request);
        const written = await store.upsertBranches(good, ctx, signal());
        const branches = await countsOf('branch', page.request, bad, page.records.length, written, ctx);
        return {
          branches: storedOnly(good, written).map((b) => ({ id: idKey(b.id), name: b.branch_name })),
          nextPageToken: page.nextPageToken,
          counts: { branches },
        };
      }),

    /** One page of a branch's employees; upserts the salespersons and returns their ids. */
    syncEmployeesPage: (input: SyncEmployeesPageInput): Promise<SyncEmployeesPageOutput> =>
      alive(async () => {
        const ctx = writeContext();
        const page = await fetchPage(ctx, () =>
          vendor.employees(input.branchId, { pageSize, pageToken: input.pageToken }),
        );
        const { good, bad } = validateRecords('employee', page.records, page.request);
        const salespersons: EmployeeRecord[] = good.filter((e) => e.occupation === 'salesperson');
        const written = await store.upsertSalespersons(salespersons, input.branchId, ctx, signal());
        // Only salespersons are synced: other employees count neither as fetched nor as unchanged.
        const counts = await countsOf(
          'employee',
          page.request,
          bad,
          salespersons.length + bad.length,
          written,
          ctx,
        );
        return {
          // A salesperson whose item could not be stored is still synced further: its sales are good records.
          salespersonIds: salespersons.map((s) => idKey(s.id)),
          nextPageToken: page.nextPageToken,
          counts: { salespersons: counts },
        };
      }),

    /** One page of a salesperson's sales in the window; filters, validates, upserts. */
    syncSalesPage: (input: SyncSalesPageInput): Promise<SyncSalesPageOutput> =>
      alive(async () => {
        const ctx = writeContext();
        const window = input.window
          ? {
              from: formatVendorTimestamp(Date.parse(input.window.from)),
              to: formatVendorTimestamp(Date.parse(input.window.to)),
            }
          : null;
        const page = await fetchPage(
          ctx,
          () => vendor.sales(input.employeeId, window, { pageSize, pageToken: input.pageToken }),
          'null',
        );
        if (!page) return { nextPageToken: null, counts: {}, vanished: true };
        // A server may ignore from/to: drop what is outside the window before judging it.
        const records = window ? inWindowOnly(page.records, window) : page.records;
        const { good, bad } = validateRecords('sale', records, page.request);
        const written = await store.upsertSales(good, input.employeeId, input.branchId, ctx, signal());
        const sales = await countsOf('sale', page.request, bad, records.length, written, ctx);
        return { nextPageToken: page.nextPageToken, counts: { sales } };
      }),
  };
}

/** The activities' type, for `proxyActivities<Activities>()` in workflows (type-only import). */
export type Activities = ReturnType<typeof createActivities>;
