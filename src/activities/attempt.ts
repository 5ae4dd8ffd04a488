/**
 * The running attempt of an activity: its heartbeats, its cancellation signal and the workflow
 * it writes for.
 */
import { Context } from '@temporalio/activity';
import type { WriteContext } from '../store/index.js';
import type { RunLanding } from './types.js';

export type { RunLanding } from './types.js';

/** Tells Temporal this attempt is alive (see heartbeatTimeout in the workflows' activity options). */
function heartbeat(): void {
  Context.current().heartbeat();
}

/**
 * Heartbeats every few seconds while `fn` runs (the SDK sends at most one per 80% of the
 * heartbeat timeout), so a slow answer or a long write is never mistaken for a lost worker;
 * a worker that is really gone stops heartbeating and its attempt is retried elsewhere. No
 * heartbeat at the start: the heartbeat timeout runs from the attempt's start anyway, most
 * attempts end well within the period, and every heartbeat sent is a billable action on
 * Temporal Cloud (one per attempt would be a large share of a run's actions).
 */
export async function alive<T>(fn: () => Promise<T>): Promise<T> {
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
export function attemptSignal(): AbortSignal {
  return Context.current().cancellationSignal;
}

/** The workflow this attempt works for; an activity run outside any workflow is named as such. */
export function currentWorkflow(): { workflowId: string; runId: string | undefined } {
  const wf = Context.current().info.workflowExecution;
  return { workflowId: wf?.workflowId ?? 'standalone-activity', runId: wf?.runId };
}

/** The provenance this attempt writes on every item: its workflow and run. */
export function writeContext(): WriteContext {
  const wf = currentWorkflow();
  return { workflowId: wf.workflowId, runId: wf.runId ?? '' };
}

/**
 * The activity's landing mode. A workflow started before the landing zone existed (still running
 * across an upgrade) passes none: its answers land under its own workflow ID.
 */
export function landingOf(input: { landing?: RunLanding }): RunLanding {
  if (input.landing) return input.landing;
  return { run: { scope: 'unscoped', workflowId: currentWorkflow().workflowId } };
}
