/**
 * Timeouts of the vendor activities, in one place: the workflows set them on the activity
 * proxies, and configuration checks VENDOR_TIMEOUT_MS against them at start, so a request
 * can never outlive the attempt that made it.
 */

/** One attempt: one vendor request (VENDOR_TIMEOUT_MS at most) plus the writes of its page. */
export const VENDOR_START_TO_CLOSE_MS = 60_000;
/** An attempt that stops heartbeating this long is retried elsewhere (its worker is gone). */
export const VENDOR_HEARTBEAT_TIMEOUT_MS = 15_000;
/** Time an attempt keeps for validation and the DynamoDB writes of its page after the request. */
export const WRITE_BUDGET_MS = 20_000;
/** Longest VENDOR_TIMEOUT_MS: the request and the writes must fit in one attempt. */
export const MAX_VENDOR_TIMEOUT_MS = VENDOR_START_TO_CLOSE_MS - WRITE_BUDGET_MS;
