/**
 * Where an answer lands:
 *
 *   <prefix>raw/<path>/<window scope>/<run>/<request digest>-<caller run>-<activity>-<attempt>.json.gz
 *
 * `window scope` is the run's window end and length (`2026-11-21T05:00:00Z/24h`), `run` the
 * parent workflow ID, `request digest` a hash of the path and parameters (the page size left
 * out, so a replay finds a page whatever VENDOR_PAGE_SIZE its worker has), `caller run` the run
 * ID of the workflow whose activity asked, `activity` that activity's ID (unique within the
 * workflow run: a child that asks the same request several times, each activity at attempt 1,
 * lands each answer apart) and `attempt` the activity's attempt. The same attempt uploading
 * again overwrites its object; every other answer has a key of its own.
 *
 * Objects landed before the activity was part of the key, `<digest>-<caller run>-<attempt>`,
 * stay readable: everything of a request is found by the `<digest>-` prefix, and everything
 * else is read from the document, never parsed from the key.
 */
import { createHash } from 'node:crypto';
import type { VendorPath, VendorRequest } from '../vendor-api/client.js';
import type { AnswerCaller, LandedRun } from './document.js';

/** Hash of a request's path and parameters, the page size left out (24 hex digits, no '-'). */
export function requestDigest(req: VendorRequest): string {
  const params = Object.entries(req.params)
    .filter(([k]) => k !== 'page_size')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify([req.path, params]))
    .digest('hex')
    .slice(0, 24);
}

/** `<prefix>raw/<path>/<scope>/<run>/`: the folder of a run's answers to one path. */
export function runFolder(prefix: string, path: VendorPath, run: LandedRun): string {
  return `${prefix}raw/${path.slice(1)}/${run.scope}/${encodeURIComponent(run.workflowId)}/`;
}

/** The prefix, within a run's folder, of every answer to `req`, whichever key layout landed it. */
export function requestPrefix(prefix: string, req: VendorRequest, run: LandedRun): string {
  return `${runFolder(prefix, req.path, run)}${requestDigest(req)}-`;
}

/** The key of one answer. Run and activity IDs are encoded: an activity ID may hold '/'. */
export function answerKey(prefix: string, req: VendorRequest, run: LandedRun, caller: AnswerCaller): string {
  const who = [caller.runId, caller.activityId].map(encodeURIComponent).join('-');
  return `${requestPrefix(prefix, req, run)}${who}-${caller.attempt}.json.gz`;
}

/** The request digest of a landed key (either layout): its file name up to the first '-'. */
export function digestOfKey(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dash = name.indexOf('-');
  return dash < 0 ? name : name.slice(0, dash);
}
