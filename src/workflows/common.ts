/**
 * Pieces shared by the three workflows: activity proxies, the retry policy, bounded
 * concurrency, following a paged list and the history budget. Deterministic code only.
 */
import { type ActivityOptions, type RetryPolicy, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities, StateActivities } from '../activities/types.js';
import { VENDOR_HEARTBEAT_TIMEOUT_MS, VENDOR_START_TO_CLOSE_MS } from '../shared/activity-timeouts.js';

/**
 * Retry policy of every vendor request. 5xx, drops and timeouts back off exponentially;
 * a 429 overrides the next delay with the vendor's Retry-After (see toFailure); other 4xx
 * are non-retryable. Ten attempts span about 8 minutes before a list is declared failed.
 */
const VENDOR_RETRY: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '60s',
  maximumAttempts: 10,
  nonRetryableErrorTypes: ['VendorRequestRejected'],
};

/** Activity options for the vendor queue (one HTTP request plus a few DynamoDB calls per attempt). */
export function vendorActivities(taskQueue: string): Activities {
  const options: ActivityOptions = {
    taskQueue,
    // The HTTP timeout (VENDOR_TIMEOUT_MS, 10 s by default, checked at start to leave
    // WRITE_BUDGET_MS) plus the writes of one page.
    startToCloseTimeout: VENDOR_START_TO_CLOSE_MS,
    // Activities heartbeat every few seconds while they run, so an attempt lost with its
    // worker (kill -9, a crashed machine) is retried after 15 s, not 60 s.
    heartbeatTimeout: VENDOR_HEARTBEAT_TIMEOUT_MS,
    // Bounds the whole retry sequence, including time queued behind the rate limit.
    scheduleToCloseTimeout: '30m',
    retry: VENDOR_RETRY,
  };
  return proxyActivities<Activities>(options);
}

/**
 * Activity options of the state activities (watermarks, first loads, voids, departures): DynamoDB
 * only, on the workflow task queue, outside the vendor's rate limit. They heartbeat like the vendor
 * activities, so an attempt lost with its worker (kill -9, a stop past its grace) is retried after
 * 15 s, not after its 5-minute bound (a void check of a large listing takes a while).
 */
export function stateActivities(): StateActivities {
  return proxyActivities<StateActivities>({
    startToCloseTimeout: '5m',
    heartbeatTimeout: VENDOR_HEARTBEAT_TIMEOUT_MS,
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
  });
}

/**
 * Events after which a workflow continues as new. Temporal warns at 10,240 events and
 * stops a run at 51,200; staying far below keeps replays fast for any branch size.
 */
export const HISTORY_BUDGET = 2_000;

/** True when the run should hand its state to a fresh run (`budget`: events, HISTORY_BUDGET by default). */
export function historyFull(budget: number = HISTORY_BUDGET): boolean {
  const info = workflowInfo();
  return info.historyLength > budget || info.continueAsNewSuggested;
}

/**
 * Runs `fn` over `items` with at most `limit` in flight (a sliding window: a new one starts
 * as soon as any finishes). Stops taking new items once `stop()` is true and returns the
 * index of the first item not started.
 */
export async function slidingWindow<T>(
  items: readonly T[],
  start: number,
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
  stop: () => boolean = () => false,
): Promise<number> {
  let next = start;
  const inFlight = new Set<Promise<void>>();
  while (next < items.length || inFlight.size > 0) {
    while (next < items.length && inFlight.size < limit && !stop()) {
      const index = next++;
      const p: Promise<void> = fn(items[index] as T, index).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    if (inFlight.size === 0) break;
    await Promise.race(inFlight);
  }
  return next;
}

/**
 * Asks for a list page after page (`ask`, given the previous page's token) until the vendor
 * says there is no next page, or `stopWhy` gives a reason not to follow the next token (a token
 * seen before, too many pages); returns that reason, or undefined when the list ended.
 */
export async function followPages(
  ask: (token: string | null) => Promise<{ nextPageToken: string | null }>,
  stopWhy: (token: string, seen: ReadonlySet<string>) => string | undefined,
): Promise<string | undefined> {
  const seen = new Set<string>();
  let token: string | null = null;
  for (;;) {
    token = (await ask(token)).nextPageToken;
    if (token === null) return undefined;
    const why = stopWhy(token, seen);
    if (why) return why;
    seen.add(token);
  }
}

/** The message of an error and of its causes, for a summary a person reads. */
export function reasonOf(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e.message && !parts.includes(e.message)) parts.push(e.message);
    e = e.cause;
  }
  return parts.join(': ') || String(err);
}
