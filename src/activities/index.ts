/**
 * Activities: the side effects of the sync. Each activity attempt makes exactly one vendor
 * request (so the vendor task queue's rate limit is the vendor's quota), validates what
 * came back, and writes through the store. Only keys, cursors and counts go back to the
 * workflow: records never enter workflow history.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { VendorBadBodyError, VendorHttpError } from '../shared/errors.js';
import { type RunLanding, alive, attemptSignal, landingOf, writeContext } from './attempt.js';
import { inWindowOnly } from './window.js';
import { replayFailure, toFailure } from './failures.js';

export { MIN_RATE_LIMIT_DELAY_MS, toFailure } from './failures.js';
export type { RunLanding } from './attempt.js';
import { emptyTableCounts, type Counts, type TableCounts } from '../shared/summary.js';
import { type Landing, type LandedRun, NotLandedError } from '../landing/index.js';
import type { SetAside, Store, UpsertOptions, UpsertResult, WriteContext } from '../store/index.js';
import {
  type VendorAnswer,
  type VendorClient,
  type VendorPage,
  type VendorRequest,
  describeRequest,
  vendorRequests,
} from '../vendor-api/client.js';
import {
  type BranchRecord,
  type EmployeeRecord,
  formatVendorTimestamp,
  idKey,
} from '../vendor-api/schemas.js';
import { validateRecords } from '../vendor-api/validate.js';

/** What the activities need, built once per worker process (tests pass their own). */
export interface ActivityDeps {
  vendor: VendorClient;
  store: Store;
  /** Page size asked of the vendor for every list. */
  pageSize: number;
  /** The raw landing zone; null when LANDING=off (then nothing lands and nothing can be replayed). */
  landing: Landing | null;
}

/** A branch as the workflows know it: key and name only. Ids are decimal digits (they may exceed 2^53). */
export interface BranchRef {
  id: string;
  name: string;
}

export interface LookupBranchInput {
  landing: RunLanding;
  name: string;
}
export interface LookupBranchOutput {
  /** Null when the vendor has no branch of that exact name. */
  branch: BranchRef | null;
  counts: Partial<Counts>;
}

export interface ListBranchesPageInput {
  landing: RunLanding;
  pageToken: string | null;
}
export interface ListBranchesPageOutput {
  branches: BranchRef[];
  nextPageToken: string | null;
  counts: Partial<Counts>;
}

export interface SyncEmployeesPageInput {
  landing: RunLanding;
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
  landing: RunLanding;
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

/** Builds the activities around their dependencies (the worker builds them once). */
export function createActivities(deps: ActivityDeps) {
  const { vendor, store, pageSize, landing } = deps;

  /**
   * The answer to `req`: a live run asks the vendor and lands the answer before anything reads
   * it (land first, then write: a store that is down fails the attempt, which is retried); a
   * replay reads the newest answer landed for `req`.
   */
  async function answerTo(
    req: VendorRequest,
    mode: RunLanding,
    window: SyncWindow | null,
  ): Promise<{ answer: VendorAnswer; landed: string | null }> {
    if (mode.replay) {
      if (!landing) throw replayFailure('a replay reads the landing zone: set LANDING_BUCKET on the workers');
      const found = await landing.latest(req, mode.run, attemptSignal()).catch((err: unknown) => {
        throw err instanceof NotLandedError ? replayFailure(err.message) : err;
      });
      if (!found)
        throw replayFailure(
          `no answer to ${describeRequest(req)} landed for run ${mode.run.workflowId} (${mode.run.scope}); replay only follows what that run fetched`,
        );
      return { answer: found, landed: found.key };
    }
    let answer: VendorAnswer;
    try {
      answer = await vendor.fetch(req);
    } catch (err) {
      throw toFailure(err);
    }
    if (!landing) return { answer, landed: null };
    const info = Context.current().info;
    const wf = info.workflowExecution ?? { workflowId: 'standalone-activity', runId: 'none' };
    try {
      const { key } = await landing.land(
        answer,
        mode.run,
        window,
        { workflowId: wf.workflowId, runId: wf.runId, activityId: info.activityId, attempt: info.attempt },
        attemptSignal(),
      );
      return { answer, landed: key };
    } catch (err) {
      throw ApplicationFailure.create({
        type: 'LandingFailed',
        message: `the landing zone did not take the answer to ${describeRequest(req)} (${(err as Error).name}: ${(err as Error).message}); nothing of it was stored, the attempt is retried`,
      });
    }
  }

  /** One page: its answer (asked or landed), read; a bad body is set aside (naming the landed object) before the attempt fails. */
  async function fetchPage(
    ctx: WriteContext,
    req: VendorRequest,
    mode: RunLanding,
    window?: SyncWindow | null,
  ): Promise<Fetched>;
  /** The same, answering null when the vendor says 404 (the id is gone). */
  async function fetchPage(
    ctx: WriteContext,
    req: VendorRequest,
    mode: RunLanding,
    window: SyncWindow | null,
    notFound: 'null',
  ): Promise<Fetched | null>;
  async function fetchPage(
    ctx: WriteContext,
    req: VendorRequest,
    mode: RunLanding,
    window: SyncWindow | null = null,
    notFound?: 'null',
  ): Promise<Fetched | null> {
    const { answer, landed } = await answerTo(req, mode, window);
    try {
      return { ...vendor.read(answer), landed, fetchedAt: answer.fetchedAt };
    } catch (err) {
      if (notFound && err instanceof VendorHttpError && err.status === 404) return null;
      if (err instanceof VendorBadBodyError) {
        await store.quarantine(
          [{ kind: 'body', reason: err.message, raw: err.body, request: err.request, landed }],
          ctx,
          options(mode),
        );
      }
      // A replay reads the same answer every time: asking again cannot help.
      throw mode.replay ? replayFailure(toFailure(err).message) : toFailure(err);
    }
  }

  /**
   * Options of every store call of this attempt: it stops writing once Temporal gives the attempt
   * up; the page's items record when the vendor sent them, and a replay keeps items fetched later.
   */
  const options = (mode: RunLanding, page?: Fetched): UpsertOptions => ({
    signal: attemptSignal(),
    dryRun: mode.dryRun === true,
    ...(page ? { fetchedAt: page.fetchedAt } : {}),
    keepNewer: mode.replay === true && mode.force !== true,
  });

  /** The records of `records` the store did not refuse. */
  const storedOnly = <R>(records: R[], written: UpsertResult): R[] =>
    records.filter((r) => !written.rejected.some((x) => x.source === r));

  /** Sets aside what validation and the store refused; returns the page's counts for one table. */
  async function countsOf(
    kind: SetAside['kind'],
    page: Fetched,
    bad: SetAside[],
    fetched: number,
    written: UpsertResult,
    ctx: WriteContext,
    mode: RunLanding,
  ): Promise<TableCounts> {
    const setAside = [
      ...bad,
      ...written.rejected.map((r) => ({
        kind,
        reason: `cannot be stored as sent: ${r.reason}`,
        raw: r.source,
        request: page.request,
      })),
    ].map((e) => ({ ...e, landed: page.landed }));
    if (setAside.length) await store.quarantine(setAside, ctx, options(mode));
    const { inserted, updated, unchanged, newerKept } = written;
    return {
      ...emptyTableCounts(),
      fetched,
      setAside: setAside.length,
      inserted,
      updated,
      unchanged,
      newerKept,
    };
  }

  /** A page of branches: its answer read, validated, the ones `keep` accepts upserted, counted. */
  async function syncBranches(
    req: VendorRequest,
    mode: RunLanding,
    keep: (b: BranchRecord) => boolean = () => true,
  ) {
    const ctx = writeContext();
    const page = await fetchPage(ctx, req, mode);
    const { good, bad } = validateRecords('branch', page.records, page.request);
    const kept = good.filter(keep);
    const written = await store.upsertBranches(kept, ctx, options(mode, page));
    const branches = await countsOf('branch', page, bad, page.records.length, written, ctx, mode);
    return { page, stored: storedOnly(kept, written), counts: { branches } };
  }

  return {
    /**
     * The branches a landed run asked for (replay without --branches): the names of its
     * `/branches?branch=NAME` answers, or `all` when it listed every branch.
     */
    landedBranches: (input: { run: LandedRun }): Promise<{ all: boolean; names: string[] }> =>
      alive(async () => {
        if (!landing)
          throw replayFailure('a replay reads the landing zone: set LANDING_BUCKET on the workers');
        const requests = await landing.requestsOf('/branches', input.run, attemptSignal());
        if (requests.length === 0)
          throw replayFailure(
            `nothing landed for run ${input.run.workflowId} (${input.run.scope}): check the workflow ID and the window, or LANDING_BUCKET/LANDING_PREFIX`,
          );
        const names = requests.map((r) => r.params.branch).filter((n): n is string => n !== undefined);
        return { all: names.length < requests.length, names: [...new Set(names)].sort() };
      }),

    /** `/branches?branch=NAME`, then upserts the branch. */
    lookupBranch: (input: LookupBranchInput): Promise<LookupBranchOutput> =>
      alive(async () => {
        const mode = landingOf(input);
        // The API filters by name; keep only exact matches in case a server does not.
        const { stored, counts } = await syncBranches(
          vendorRequests.branchByName(input.name),
          mode,
          (b) => b.branch_name === input.name,
        );
        const [branch] = stored;
        return { branch: branch ? { id: idKey(branch.id), name: branch.branch_name } : null, counts };
      }),

    /** One page of `/branches` without a name (all branches), upserting them. */
    listBranchesPage: (input: ListBranchesPageInput): Promise<ListBranchesPageOutput> =>
      alive(async () => {
        const mode = landingOf(input);
        const req = vendorRequests.allBranches({ pageSize, pageToken: input.pageToken });
        const { stored, counts, page } = await syncBranches(req, mode);
        return {
          branches: stored.map((b) => ({ id: idKey(b.id), name: b.branch_name })),
          nextPageToken: page.nextPageToken,
          counts,
        };
      }),

    /** One page of a branch's employees; upserts the salespersons and returns their ids. */
    syncEmployeesPage: (input: SyncEmployeesPageInput): Promise<SyncEmployeesPageOutput> =>
      alive(async () => {
        const mode = landingOf(input);
        const ctx = writeContext();
        const req = vendorRequests.employees(input.branchId, { pageSize, pageToken: input.pageToken });
        const page = await fetchPage(ctx, req, mode);
        const { good, bad } = validateRecords('employee', page.records, page.request);
        const salespersons: EmployeeRecord[] = good.filter((e) => e.occupation === 'salesperson');
        const written = await store.upsertSalespersons(
          salespersons,
          input.branchId,
          ctx,
          options(mode, page),
        );
        // Only salespersons are synced: other employees count neither as fetched nor as unchanged.
        const counts = await countsOf(
          'employee',
          page,
          bad,
          salespersons.length + bad.length,
          written,
          ctx,
          mode,
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
        const mode = landingOf(input);
        const ctx = writeContext();
        const window = input.window
          ? {
              from: formatVendorTimestamp(Date.parse(input.window.from)),
              to: formatVendorTimestamp(Date.parse(input.window.to)),
            }
          : null;
        const req = vendorRequests.sales(input.employeeId, window, { pageSize, pageToken: input.pageToken });
        const page = await fetchPage(ctx, req, mode, input.window, 'null');
        if (!page) return { nextPageToken: null, counts: {}, vanished: true };
        // A server may ignore from/to: drop what is outside the window before judging it.
        const records = window ? inWindowOnly(page.records, window) : page.records;
        const { good, bad } = validateRecords('sale', records, page.request);
        const written = await store.upsertSales(
          good,
          input.employeeId,
          input.branchId,
          ctx,
          options(mode, page),
        );
        const sales = await countsOf('sale', page, bad, records.length, written, ctx, mode);
        return { nextPageToken: page.nextPageToken, counts: { sales } };
      }),
  };
}

/** A page read from an answer, with the landed object it came from (null when LANDING=off) and when the vendor sent it. */
type Fetched = VendorPage & { landed: string | null; fetchedAt: string };

/** The activities' type, for `proxyActivities<Activities>()` in workflows (type-only import). */
export type Activities = ReturnType<typeof createActivities>;
