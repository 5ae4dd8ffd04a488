/**
 * What the vendor simulator can be configured with: the option types, the names of its
 * faults and Retry-After forms, and the validation that rejects a bad value naming the option.
 * Used at start (resolveSimOptions) and by the run-time setters of VendorSimulator.
 */
import type { Dataset, DatasetOptions } from './dataset.js';
import { resolveDatasetOptions, stripUndefined } from './dataset.js';

/** How a 429 carries `Retry-After`: whole seconds rounded up, always "0", fractional seconds, or no header. */
export type RetryAfterMode = 'seconds' | 'zero' | 'fractional' | 'absent';
/** Every RetryAfterMode, for validation and help texts. */
export const RETRY_AFTER_MODES: readonly RetryAfterMode[] = ['seconds', 'zero', 'fractional', 'absent'];

/** Every fault the simulator can inject into an otherwise successful answer. */
export const FAULT_KINDS = [
  'error5xx',
  'drop',
  'slow',
  'nonJson',
  'html',
  'badRecord',
  'repeatToken',
] as const;
/**
 * A fault kind:
 * - `error5xx`: 500, 502 or 503 with a JSON error body instead of the answer;
 * - `drop`: the socket is destroyed without an answer;
 * - `slow`: the answer is delayed by `slowMs` more;
 * - `nonJson`: 200 with the JSON body cut in half;
 * - `html`: 200 with an HTML page (content-type text/html);
 * - `badRecord`: drawn per record of a list; the record is replaced by a corrupted copy;
 * - `repeatToken`: `next_page_token` is the token that was sent (or the first page's token), a loop.
 */
export type FaultKind = (typeof FAULT_KINDS)[number];
/** Probability (0..1) of each fault per successful request (per record for badRecord). */
export type FaultRates = Record<FaultKind, number>;

/** Ways a badRecord fault corrupts a record. */
export const BAD_RECORD_KINDS = ['missingId', 'badTimestamp', 'stringNumber', 'duplicateId'] as const;
/**
 * A bad-record kind:
 * - `missingId`: the `id` field is removed (any record);
 * - `badTimestamp`: `transaction_timestamp` is not a real `YYYY-MM-DD HH:MM:SS` instant (sales only);
 * - `stringNumber`: a number sent as a string: sale `quantity`, branch `employees`, employee `id`;
 * - `duplicateId`: the record carries the previous record's id (not for a page's first record).
 *   Such a record passes the record schemas on its own; only the response as a whole is wrong.
 */
export type BadRecordKind = (typeof BAD_RECORD_KINDS)[number];

/** Everything the simulator can be configured with; `VendorSimulator.start` fills in defaults. */
export interface SimOptions extends DatasetOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host: string;
  /** Accepted values of the `x-api-key` header. Default ['sim-key']. */
  apiKeys: string[];
  /** Requests per second per key (token bucket of this capacity, refilled at this rate); 0 = unlimited. Default 20. */
  quota: number;
  /** Form of `Retry-After` on 429. Default 'seconds'. */
  retryAfterMode: RetryAfterMode;
  /** Delay before every answer, ms. Default 0. */
  latencyMs: number;
  /** Up to this many ms of seeded random delay added to latencyMs. Default 0. */
  latencyJitterMs: number;
  /** Fault rates; unlisted kinds are 0. Default all 0. */
  faults: Partial<FaultRates>;
  /** Seed of the fault and jitter generator, separate from the data's. Default: `seed`. */
  faultSeed: number;
  /** Extra delay of a `slow` fault, ms. Default 30000. */
  slowMs: number;
  /** Which corruptions a badRecord fault may choose from. Default all of BAD_RECORD_KINDS. */
  badRecordKinds: BadRecordKind[];
  /** Entries kept in the injected-bad-record log (oldest dropped first). Default 10000. */
  badRecordLogLimit: number;
  /** Serve this dataset instead of generating one from the dataset options. */
  dataset: Dataset | undefined;
}

/** A count (or rate) of 0 for every fault kind. */
export function zeroFaults(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
}

export function checkNumber(name: string, value: number, min: number, max = Number.POSITIVE_INFINITY): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `in ${min}..${max}`;
    throw new RangeError(`${name} must be a number ${range}, got ${String(value)}`);
  }
}

/** Validates fault rates (names and 0..1) and returns them. */
export function checkFaultRates(rates: Partial<FaultRates>): Partial<FaultRates> {
  for (const [kind, rate] of Object.entries(rates)) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new RangeError(
        `unknown fault kind ${JSON.stringify(kind)}; expected one of ${FAULT_KINDS.join(', ')}`,
      );
    }
    if (rate !== undefined) checkNumber(`faults.${kind}`, rate, 0, 1);
  }
  return rates;
}

export function checkQuota(quota: number): void {
  if (!(quota === 0 || (Number.isFinite(quota) && quota >= 1))) {
    throw new RangeError(
      `quota must be 0 (unlimited) or a number >= 1 (requests per second), got ${String(quota)}`,
    );
  }
}

export function checkBadRecordKinds(kinds: readonly string[]): void {
  if (kinds.length === 0) throw new RangeError('badRecordKinds must name at least one kind');
  for (const kind of kinds) {
    if (!(BAD_RECORD_KINDS as readonly string[]).includes(kind)) {
      throw new RangeError(
        `unknown bad record kind ${JSON.stringify(kind)}; expected one of ${BAD_RECORD_KINDS.join(', ')}`,
      );
    }
  }
}

export function checkRetryAfterMode(mode: string): void {
  if (!(RETRY_AFTER_MODES as readonly string[]).includes(mode)) {
    throw new RangeError(
      `retryAfterMode must be one of ${RETRY_AFTER_MODES.join(', ')}, got ${JSON.stringify(mode)}`,
    );
  }
}

/** Fills in the defaults of SimOptions and rejects invalid values with an error naming the option. */
export function resolveSimOptions(options: Partial<SimOptions> = {}): SimOptions {
  const given = stripUndefined(options);
  const resolved: SimOptions = {
    ...resolveDatasetOptions(given),
    port: 0,
    host: '127.0.0.1',
    apiKeys: ['sim-key'],
    quota: 20,
    retryAfterMode: 'seconds',
    latencyMs: 0,
    latencyJitterMs: 0,
    faults: {},
    faultSeed: given.seed ?? 1,
    slowMs: 30_000,
    badRecordKinds: [...BAD_RECORD_KINDS],
    badRecordLogLimit: 10_000,
    dataset: undefined,
    ...given,
  };
  if (!Number.isInteger(resolved.port) || resolved.port < 0 || resolved.port > 65535) {
    throw new RangeError(`port must be an integer in 0..65535, got ${String(resolved.port)}`);
  }
  if (
    !Array.isArray(resolved.apiKeys) ||
    resolved.apiKeys.length === 0 ||
    resolved.apiKeys.some((k) => typeof k !== 'string' || k === '')
  ) {
    throw new RangeError('apiKeys must be a non-empty list of non-empty strings');
  }
  checkQuota(resolved.quota);
  checkRetryAfterMode(resolved.retryAfterMode);
  checkNumber('latencyMs', resolved.latencyMs, 0);
  checkNumber('latencyJitterMs', resolved.latencyJitterMs, 0);
  checkNumber('slowMs', resolved.slowMs, 0);
  checkNumber('badRecordLogLimit', resolved.badRecordLogLimit, 0);
  if (!Number.isSafeInteger(resolved.faultSeed)) {
    throw new RangeError(`faultSeed must be an integer, got ${String(resolved.faultSeed)}`);
  }
  checkFaultRates(resolved.faults);
  checkBadRecordKinds(resolved.badRecordKinds);
  return resolved;
}
