/**
 * Error classes shared by activities, the store, the CLI and configuration. Each sets
 * `name`, takes `{ cause }`, and carries a message that says what failed, with which
 * input, and what to do.
 */

/** Base class of every error this project raises on purpose. */
export class SyncError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SyncError';
  }
}

/** A setting is missing or malformed; the message names the variable and the expected form. */
export class ConfigError extends SyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** The vendor answered with an HTTP status the pipeline does not accept. */
export class VendorHttpError extends SyncError {
  constructor(
    message: string,
    readonly status: number,
    readonly request: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VendorHttpError';
  }
}

/** The vendor said 429; `retryAfterMs` is what its Retry-After header asked for (absent: undefined). */
export class VendorRateLimitedError extends VendorHttpError {
  constructor(
    request: string,
    readonly retryAfterMs: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(`vendor rate limit hit (429) on ${request}`, 429, request, options);
    this.name = 'VendorRateLimitedError';
  }
}

/** A 200 whose body is not the JSON envelope of the contract (HTML, truncated, wrong shape). */
export class VendorBadBodyError extends SyncError {
  constructor(
    message: string,
    readonly request: string,
    /** The start of the body as received, for the quarantine table. */
    readonly body: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VendorBadBodyError';
  }
}

/** The vendor could not be reached, dropped the connection or did not answer in time. */
export class VendorUnavailableError extends SyncError {
  constructor(
    message: string,
    readonly request: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VendorUnavailableError';
  }
}

/**
 * A 200 whose body went past VENDOR_MAX_ANSWER_BYTES after decompression: the request was
 * aborted at the limit and the page cannot be read. Asking again fetches the same page, so
 * it is not retried; `body` holds its start, for the quarantine table.
 */
export class VendorAnswerTooLargeError extends VendorBadBodyError {
  constructor(
    message: string,
    request: string,
    /** Bytes read before the request was aborted (the limit when the answer was fetched). */
    readonly limitBytes: number,
    body: string,
    options?: { cause?: unknown },
  ) {
    super(message, request, body, options);
    this.name = 'VendorAnswerTooLargeError';
  }
}
