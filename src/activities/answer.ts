/**
 * Where a page's answer comes from. A live run asks the vendor and lands the answer before
 * anything reads it (land first, then write: a store that is down fails the attempt, which is
 * retried); a replay reads the answer its run landed and asks nobody.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { type Landing, NotLandedError } from '../landing/index.js';
import {
  type VendorAnswer,
  type VendorClient,
  type VendorRequest,
  describeRequest,
} from '../vendor-api/client.js';
import { type RunLanding, attemptSignal, currentWorkflow } from './attempt.js';
import { replayFailure, toFailure } from './failures.js';
import type { SyncWindow } from './types.js';

/** An answer and the key of its landed object (null when LANDING=off). */
export interface Answer {
  answer: VendorAnswer;
  landed: string | null;
  /** A replay: the window the run read under when it asked (undefined for a live answer). */
  landedWindow?: SyncWindow | null;
}

/** The landing zone a replay reads; a replay on workers without one fails, saying what to set. */
export function replayLanding(landing: Landing | null): Landing {
  if (!landing) throw replayFailure('a replay reads the landing zone: set LANDING_BUCKET on the workers');
  return landing;
}

/** The answer to `req`: asked and landed (a live run), or read from the landing zone (a replay). */
export function answerTo(
  deps: { vendor: VendorClient; landing: Landing | null },
  req: VendorRequest,
  mode: RunLanding,
  window: SyncWindow | null,
): Promise<Answer> {
  return mode.replay ? landedAnswer(deps.landing, req, mode) : askAndLand(deps, req, mode, window);
}

/** True when `mode.run` landed an answer to `req` (a replay choosing between requests). */
export function hasLanded(landing: Landing | null, req: VendorRequest, mode: RunLanding): Promise<boolean> {
  return replayLanding(landing).has(req, mode.run, attemptSignal());
}

/** The answer `mode.run` used for `req`, from the landing zone. */
async function landedAnswer(landing: Landing | null, req: VendorRequest, mode: RunLanding): Promise<Answer> {
  const found = await replayLanding(landing)
    .latest(req, mode.run, attemptSignal())
    .catch((err: unknown) => {
      throw err instanceof NotLandedError ? replayFailure(err.message) : err;
    });
  if (!found)
    throw replayFailure(
      `no answer to ${describeRequest(req)} landed for run ${mode.run.workflowId} (${mode.run.scope}); replay only follows what that run fetched`,
    );
  return { answer: found, landed: found.key, landedWindow: found.window };
}

/** Asks the vendor, then lands the answer under `mode.run` (named by this attempt) before it is used. */
async function askAndLand(
  deps: { vendor: VendorClient; landing: Landing | null },
  req: VendorRequest,
  mode: RunLanding,
  window: SyncWindow | null,
): Promise<Answer> {
  let answer: VendorAnswer;
  try {
    answer = await deps.vendor.fetch(req);
  } catch (err) {
    throw toFailure(err);
  }
  if (!deps.landing) return { answer, landed: null };
  const info = Context.current().info;
  const wf = currentWorkflow();
  try {
    const { key } = await deps.landing.land(
      answer,
      mode.run,
      window,
      {
        workflowId: wf.workflowId,
        runId: wf.runId ?? 'none',
        activityId: info.activityId,
        attempt: info.attempt,
      },
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
