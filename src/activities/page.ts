/**
 * One page of one activity attempt: its answer read (a bad body set aside first), and what the
 * store did with its records turned into the page's counts, with every refused record set aside.
 */
import { VendorBadBodyError, VendorHttpError } from '../shared/errors.js';
import { emptyTableCounts, type TableCounts } from '../shared/summary.js';
import type { SetAside, UpsertOptions, UpsertResult, WriteContext } from '../store/index.js';
import type { VendorPage, VendorRequest } from '../vendor-api/client.js';
import { answerTo } from './answer.js';
import { type RunLanding, attemptSignal, landingOf, writeContext } from './attempt.js';
import { replayFailure, toFailure } from './failures.js';
import type { ActivityDeps } from './deps.js';
import type { SyncWindow } from './types.js';

/** What every step of one activity attempt shares: the dependencies, who writes, and the run's mode. */
export interface PageAttempt {
  deps: ActivityDeps;
  ctx: WriteContext;
  mode: RunLanding;
}

/** The attempt of the activity that runs now, for `input`. */
export function pageAttempt(deps: ActivityDeps, input: { landing?: RunLanding }): PageAttempt {
  return { deps, mode: landingOf(input), ctx: writeContext() };
}

/** A page read from an answer, with the landed object it came from (null when LANDING=off) and when the vendor sent it. */
export type Fetched = VendorPage & {
  landed: string | null;
  fetchedAt: string;
  /** A replay: the window the run read under when it asked. */
  landedWindow?: SyncWindow | null;
};

/**
 * Options of every store call of this attempt: it stops writing once Temporal gives the attempt
 * up; the page's items record when the vendor sent them, and a replay keeps items fetched later.
 */
export function storeOptions(mode: RunLanding, page?: Fetched): UpsertOptions {
  return {
    signal: attemptSignal(),
    dryRun: mode.dryRun === true,
    ...(page ? { fetchedAt: page.fetchedAt } : {}),
    keepNewer: mode.replay === true && mode.force !== true,
  };
}

/** One page: its answer (asked or landed), read; a bad body is set aside (naming the landed object) before the attempt fails. */
export async function fetchPage(
  at: PageAttempt,
  req: VendorRequest,
  window?: SyncWindow | null,
): Promise<Fetched>;
/** The same, answering null when the vendor says 404 (the id is gone). */
export async function fetchPage(
  at: PageAttempt,
  req: VendorRequest,
  window: SyncWindow | null,
  notFound: 'null',
): Promise<Fetched | null>;
export async function fetchPage(
  at: PageAttempt,
  req: VendorRequest,
  window: SyncWindow | null = null,
  notFound?: 'null',
): Promise<Fetched | null> {
  const { deps, ctx, mode } = at;
  const { answer, landed, landedWindow } = await answerTo(deps, req, mode, window);
  try {
    return {
      ...deps.vendor.read(answer),
      landed,
      fetchedAt: answer.fetchedAt,
      ...(landedWindow !== undefined ? { landedWindow } : {}),
    };
  } catch (err) {
    if (notFound && err instanceof VendorHttpError && err.status === 404) return null;
    if (err instanceof VendorBadBodyError) {
      await deps.store.quarantine(
        [{ kind: 'body', reason: err.message, raw: err.body, request: err.request, landed }],
        ctx,
        storeOptions(mode),
      );
    }
    // A replay reads the same answer every time: asking again cannot help.
    throw mode.replay ? replayFailure(toFailure(err).message) : toFailure(err);
  }
}

/** The records of `records` the store did not refuse. */
export function storedOnly<R>(records: R[], written: UpsertResult): R[] {
  return records.filter((r) => !written.rejected.some((x) => x.source === r));
}

/** What became of one page's records of one table. */
export interface PageOutcome {
  /** Records validation refused. */
  bad: SetAside[];
  /** Records counted as fetched. */
  fetched: number;
  /** What the store did with the valid ones. */
  written: UpsertResult;
}

/** Sets aside what validation and the store refused; returns the page's counts for one table. */
export async function countsOf(
  at: PageAttempt,
  kind: SetAside['kind'],
  page: Fetched,
  { bad, fetched, written }: PageOutcome,
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
  if (setAside.length) await at.deps.store.quarantine(setAside, at.ctx, storeOptions(at.mode));
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
