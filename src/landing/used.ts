/**
 * Which of a request's landed answers a replay reads: the one its run used.
 *
 * A run may land several answers to one request: retried attempts (429, 5xx, a body that
 * could not be read), and the same request asked again by another activity (a branch looked
 * up again, an attempt that landed a 200 and then failed to store it). The activity retries
 * only a 429 and a 5xx (toFailure in src/activities): every other status is an answer the run
 * acted on, a 2xx it read, a 404 of a vanished salesperson, a 4xx that failed the branch. So a
 * replay reads the newest answer whose status is not retried; only when every answer was
 * retried (the run never got one it could act on) does it read the newest of those, and fails
 * as the run did. A replay never judges the body: a 200 whose body the run could not read is
 * still an answer, and reading it with a loosened rule is what a replay is for.
 *
 * Newest: within one activity execution (same caller run and activity ID) the higher attempt,
 * whatever the worker clocks said; otherwise the later `fetchedAt`, then the higher attempt,
 * then the later key (a tie is never left to chance).
 */
import type { LandedDocument } from './document.js';

/** True for the statuses the activity retries (429 and 5xx): an answer the run did not act on. */
export function isRetriedStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** A landed document with its key. */
export interface Landed {
  doc: LandedDocument;
  key: string;
}

/** True when `a` was landed after `b` (see the module comment). */
function isNewer(a: Landed, b: Landed): boolean {
  const [x, y] = [a.doc.caller, b.doc.caller];
  if (x.runId === y.runId && x.activityId === y.activityId && x.attempt !== y.attempt)
    return x.attempt > y.attempt;
  if (a.doc.fetchedAt !== b.doc.fetchedAt) return a.doc.fetchedAt > b.doc.fetchedAt;
  if (x.attempt !== y.attempt) return x.attempt > y.attempt;
  return a.key > b.key;
}

/** The answer the run used among a request's landed answers, or undefined when there is none. */
export function usedAnswer(landed: Landed[]): Landed | undefined {
  const acted = landed.filter((l) => !isRetriedStatus(l.doc.status));
  let best: Landed | undefined;
  for (const l of acted.length ? acted : landed) if (!best || isNewer(l, best)) best = l;
  return best;
}
