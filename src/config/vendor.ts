/** The vendor API's settings: URL, key (a secret), quota and the task queue's rate limit, page size, timeouts. */
import { readFileSync } from 'node:fs';
import { MAX_VENDOR_TIMEOUT_MS, VENDOR_START_TO_CLOSE_MS } from '../shared/activity-timeouts.js';
import {
  DEFAULT_MAX_ANSWER_BYTES,
  MAX_MAX_ANSWER_BYTES,
  MIN_MAX_ANSWER_BYTES,
} from '../shared/answer-limits.js';
import { ConfigError } from '../shared/errors.js';
import { isInsecureVendorUrl } from '../shared/loopback.js';
import { type Env, bool, int, positiveNumber, str, url } from './env.js';

/** The vendor API. `apiKey` is a secret: never log it, never put it in workflow data. */
export interface VendorConfig {
  url: string;
  apiKey: string;
  /** Requests per second the vendor allows this key. */
  quotaRps: number;
  /**
   * The vendor task queue's rate limit: `quotaRps` less VENDOR_QUOTA_HEADROOM_PERCENT (10% by
   * default). See DEFAULT_QUOTA_HEADROOM_PERCENT.
   */
  rateLimitRps: number;
  pageSize: number;
  timeoutMs: number;
  /** VENDOR_ALLOW_INSECURE_HTTP: accept an http:// URL to a host other than loopback. */
  allowInsecureHttp: boolean;
  /** VENDOR_MAX_ANSWER_BYTES: most bytes of one answer read, after decompression. */
  maxAnswerBytes: number;
}

/** The vendor key from VENDOR_API_KEY, or from the file VENDOR_API_KEY_FILE names (how secret stores mount it). */
function vendorKey(env: Env): string {
  const file = env.VENDOR_API_KEY_FILE?.trim();
  if (file) {
    let key: string;
    try {
      key = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        `VENDOR_API_KEY_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code}): point it at a readable file holding the key.`,
      );
    }
    if (!key) throw new ConfigError(`VENDOR_API_KEY_FILE=${file} is empty: it must hold the vendor API key.`);
    return key;
  }
  return str(env, 'VENDOR_API_KEY');
}

/**
 * Default VENDOR_QUOTA_HEADROOM_PERCENT. The Temporal server releases a task queue's tasks at
 * rate r with a burst of ceil(r) (one second's worth, not configurable); the vendor's bucket
 * holds Q tokens refilled at Q per second. Dispatch conforms to the vendor's bucket when r <= Q,
 * but requests reach the vendor after a delay that varies by some jitter d (event loop, GC,
 * a busy CPU), and a burst arriving compressed fits only when ceil(r) + r * d <= Q. At Q = 20:
 * 5% (r = 19) tolerates 53 ms of jitter and still saw 2 x 429 in 1 of 14 benchmark runs;
 * 10% (r = 18) tolerates 111 ms, at a cost of ~5% of wall time (BENCHMARKS.md).
 */
export const DEFAULT_QUOTA_HEADROOM_PERCENT = 10;

/** The vendor task queue's rate limit for a quota and a headroom in percent. */
export function rateLimitFor(quotaRps: number, headroomPercent = DEFAULT_QUOTA_HEADROOM_PERCENT): number {
  return (quotaRps * (100 - headroomPercent)) / 100;
}

/** Vendor settings (the worker needs them; the key is a secret). */
export function loadVendorConfig(e: Env = process.env): VendorConfig {
  const quotaRps = positiveNumber(e, 'VENDOR_QUOTA_RPS', 20);
  const headroom = int(e, 'VENDOR_QUOTA_HEADROOM_PERCENT', DEFAULT_QUOTA_HEADROOM_PERCENT, 0, 50);
  const vendorUrl = url(e, 'VENDOR_API_URL');
  const allowInsecureHttp = bool(e, 'VENDOR_ALLOW_INSECURE_HTTP', false);
  if (isInsecureVendorUrl(vendorUrl) && !allowInsecureHttp) {
    throw new ConfigError(
      `VENDOR_API_URL=${vendorUrl} is plain http to a host other than loopback: the API key would travel in clear. Use https, or set VENDOR_ALLOW_INSECURE_HTTP=true if this network is trusted.`,
    );
  }
  const timeoutRaw = e.VENDOR_TIMEOUT_MS?.trim();
  if (timeoutRaw && Number(timeoutRaw) > MAX_VENDOR_TIMEOUT_MS) {
    throw new ConfigError(
      `VENDOR_TIMEOUT_MS=${timeoutRaw} is too long: an activity attempt has ${VENDOR_START_TO_CLOSE_MS / 1000} s for the request and the writes of its page, so the request may take at most ${MAX_VENDOR_TIMEOUT_MS} ms.`,
    );
  }
  return {
    url: vendorUrl,
    apiKey: vendorKey(e),
    quotaRps,
    rateLimitRps: rateLimitFor(quotaRps, headroom),
    pageSize: int(e, 'VENDOR_PAGE_SIZE', 100, 1, 500),
    timeoutMs: int(e, 'VENDOR_TIMEOUT_MS', 10_000, 100, MAX_VENDOR_TIMEOUT_MS),
    allowInsecureHttp,
    maxAnswerBytes: int(
      e,
      'VENDOR_MAX_ANSWER_BYTES',
      DEFAULT_MAX_ANSWER_BYTES,
      MIN_MAX_ANSWER_BYTES,
      MAX_MAX_ANSWER_BYTES,
    ),
  };
}
