/**
 * The failures activities raise: each carries Temporal's retry decision (retry, retry after a
 * delay, or never), named by type so the workflows and the Web UI tell them apart.
 */
import { ApplicationFailure } from '@temporalio/activity';
import {
  SyncError,
  VendorAnswerTooLargeError,
  VendorBadBodyError,
  VendorHttpError,
  VendorRateLimitedError,
  VendorUnavailableError,
} from '../shared/errors.js';

/** Shortest wait after a 429, whatever Retry-After said: `0` or no header must never mean a tight loop. */
export const MIN_RATE_LIMIT_DELAY_MS = 1000;
/** Longest wait honoured from a Retry-After header. */
const MAX_RATE_LIMIT_DELAY_MS = 5 * 60_000;

/**
 * Turns an error into the Temporal failure that carries the right retry decision:
 * 429 -> retry after Retry-After (at least MIN_RATE_LIMIT_DELAY_MS); other 4xx -> never
 * retry (the same request cannot succeed), nor an answer past VENDOR_MAX_ANSWER_BYTES; 5xx,
 * network, timeouts, bad bodies -> retry under the activity's retry policy.
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
  if (err instanceof VendorAnswerTooLargeError)
    return ApplicationFailure.create({
      type: 'VendorAnswerTooLarge',
      message: err.message,
      nonRetryable: true,
    });
  if (err instanceof VendorBadBodyError)
    return ApplicationFailure.create({ type: 'VendorBadBody', message: err.message });
  if (err instanceof VendorUnavailableError) {
    return ApplicationFailure.create({ type: 'VendorUnavailable', message: err.message });
  }
  if (err instanceof SyncError) return ApplicationFailure.create({ type: err.name, message: err.message });
  return err instanceof Error ? err : new Error(String(err));
}

/** A replay's failure: the landed answers are what they are, so it is never retried. */
export function replayFailure(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'ReplayFailed', message, nonRetryable: true });
}
