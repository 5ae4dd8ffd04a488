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
import type { Store, WriteContext } from '../store/index.js';
import { type VendorClient, type VendorPage } from '../vendor/client.js';
import type { EmployeeRecord } from '../vendor/schemas.js';
import { validateRecords } from '../vendor/validate.js';

/** What the activities need, built once per worker process (tests pass their own). */
export interface ActivityDeps {
  vendor: VendorClient;
  store: Store;
  /** Page size asked of the vendor for every list. */
  pageSize: number;
}

/** A branch as the workflows know it: key and name only. */
export interface BranchRef {
  id: number;
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
  branchId: number;
  pageToken: string | null;
}
export interface SyncEmployeesPageOutput {
  /** Ids of the valid salespersons on this page. */
  salespersonIds: number[];
  nextPageToken: string | null;
  counts: Partial<Counts>;
}

/** A sales window as ISO instants; the vendor is asked with its own timestamp form. */
export interface SyncWindow {
  from: string;
  to: string;
}

export interface SyncSalesPageInput {
  employeeId: number;
  branchId: number;
  /** Null: every sale (full resync). */
  window: SyncWindow | null;
  pageToken: string | null;
}
export interface SyncSalesPageOutput {
  nextPageToken: string | null;
  counts: Partial<Counts>;
}

/** Shortest wait after a 429, whatever Retry-After said: `0` or no header must never mean a tight loop. */
export const MIN_RATE_LIMIT_DELAY_MS = 1000;
/** Longest wait honoured from a Retry-After header. */
export const MAX_RATE_LIMIT_DELAY_MS = 5 * 60_000;

/** Vendor timestamp (`YYYY-MM-DD HH:MM:SS`, UTC) of an ISO instant. */
export function toVendorTimestamp(iso: string): string {
  return new Date(iso).toISOString().slice(0, 19).replace('T', ' ');
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
    const clientError = err.status >= 400 && err.status < 500;
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

function writeContext(): WriteContext {
  const wf = Context.current().info.workflowExecution;
  return { workflowId: wf?.workflowId ?? 'standalone-activity', runId: wf?.runId ?? '' };
}

/** Builds the activities around their dependencies (the worker builds them once). */
export function createActivities(deps: ActivityDeps) {
  const { vendor, store, pageSize } = deps;

  /** One vendor request; a bad body is set aside (so it can be inspected) before the attempt fails. */
  async function fetchPage(ctx: WriteContext, request: () => Promise<VendorPage>): Promise<VendorPage> {
    heartbeat();
    try {
      const page = await request();
      heartbeat();
      return page;
    } catch (err) {
      if (err instanceof VendorBadBodyError) {
        await store.quarantine(
          [{ kind: 'body', reason: err.message, raw: err.body, request: err.request }],
          ctx,
        );
      }
      throw toFailure(err);
    }
  }

  async function countsOf(
    bad: Parameters<Store['quarantine']>[0],
    fetched: number,
    written: { inserted: number; updated: number; unchanged: number },
    ctx: WriteContext,
  ): Promise<TableCounts> {
    if (bad.length) await store.quarantine(bad, ctx);
    heartbeat();
    return { ...emptyTableCounts(), fetched, setAside: bad.length, ...written };
  }

  return {
    /** `/branches?branch=NAME`, then upserts the branch. */
    lookupBranch: async (input: LookupBranchInput): Promise<LookupBranchOutput> => {
      const ctx = writeContext();
      const page = await fetchPage(ctx, () => vendor.branchByName(input.name));
      const { good, bad } = validateRecords('branch', page.records, page.request);
      // The API filters by name; keep only exact matches in case a server does not.
      const matches = good.filter((b) => b.branch_name === input.name);
      const written = await store.upsertBranches(matches, ctx);
      const branches = await countsOf(bad, page.records.length, written, ctx);
      const first = matches[0];
      return { branch: first ? { id: first.id, name: first.branch_name } : null, counts: { branches } };
    },

    /** One page of `/branches` without a name (all branches), upserting them. */
    listBranchesPage: async (input: ListBranchesPageInput): Promise<ListBranchesPageOutput> => {
      const ctx = writeContext();
      const page = await fetchPage(ctx, () => vendor.allBranches({ pageSize, pageToken: input.pageToken }));
      const { good, bad } = validateRecords('branch', page.records, page.request);
      const written = await store.upsertBranches(good, ctx);
      const branches = await countsOf(bad, page.records.length, written, ctx);
      return {
        branches: good.map((b) => ({ id: b.id, name: b.branch_name })),
        nextPageToken: page.nextPageToken,
        counts: { branches },
      };
    },

    /** One page of a branch's employees; upserts the salespersons and returns their ids. */
    syncEmployeesPage: async (input: SyncEmployeesPageInput): Promise<SyncEmployeesPageOutput> => {
      const ctx = writeContext();
      const page = await fetchPage(ctx, () =>
        vendor.employees(input.branchId, { pageSize, pageToken: input.pageToken }),
      );
      const { good, bad } = validateRecords('employee', page.records, page.request);
      const salespersons: EmployeeRecord[] = good.filter((e) => e.occupation === 'salesperson');
      const written = await store.upsertSalespersons(salespersons, input.branchId, ctx);
      // Only salespersons are synced: other employees count neither as fetched nor as unchanged.
      const badCount = bad.length;
      const salespersonsCounts = await countsOf(bad, salespersons.length + badCount, written, ctx);
      return {
        salespersonIds: salespersons.map((s) => s.id),
        nextPageToken: page.nextPageToken,
        counts: { salespersons: salespersonsCounts },
      };
    },

    /** One page of a salesperson's sales in the window; validates, filters, upserts. */
    syncSalesPage: async (input: SyncSalesPageInput): Promise<SyncSalesPageOutput> => {
      const ctx = writeContext();
      const window = input.window
        ? { from: toVendorTimestamp(input.window.from), to: toVendorTimestamp(input.window.to) }
        : null;
      const page = await fetchPage(ctx, () =>
        vendor.sales(input.employeeId, window, { pageSize, pageToken: input.pageToken }),
      );
      const { good, bad } = validateRecords('sale', page.records, page.request);
      // A server may ignore from/to: filter here too (vendor timestamps sort as text).
      const inWindow = window
        ? good.filter((s) => s.transaction_timestamp >= window.from && s.transaction_timestamp < window.to)
        : good;
      const written = await store.upsertSales(inWindow, input.employeeId, input.branchId, ctx);
      const sales = await countsOf(bad, inWindow.length + bad.length, written, ctx);
      return { nextPageToken: page.nextPageToken, counts: { sales } };
    },
  };
}

/** The activities' type, for `proxyActivities<Activities>()` in workflows (type-only import). */
export type Activities = ReturnType<typeof createActivities>;
