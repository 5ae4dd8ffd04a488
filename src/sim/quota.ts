/**
 * The simulator's quota: one token bucket per API key (capacity and refill rate both
 * `quota` per second), and the Retry-After header of the 429 it answers beyond it.
 */
import { performance } from 'node:perf_hooks';
import type { RetryAfterMode } from './options.js';
import { checkQuota, checkRetryAfterMode } from './options.js';

interface Bucket {
  tokens: number;
  at: number;
}

export class Quota {
  #quota: number;
  #retryAfterMode: RetryAfterMode;
  #buckets = new Map<string, Bucket>();

  /** `quota` requests per second per key (0 = unlimited); both values checked by resolveSimOptions. */
  constructor(quota: number, retryAfterMode: RetryAfterMode) {
    this.#quota = quota;
    this.#retryAfterMode = retryAfterMode;
  }

  /** Changes the quota; every key starts again with a full bucket. */
  setQuota(quota: number): void {
    checkQuota(quota);
    this.#quota = quota;
    this.#buckets.clear();
  }

  setRetryAfterMode(mode: RetryAfterMode): void {
    checkRetryAfterMode(mode);
    this.#retryAfterMode = mode;
  }

  /** Takes a token from the key's bucket, or returns the seconds until the next token. */
  takeToken(key: string): number | undefined {
    if (this.#quota === 0) return undefined;
    const now = performance.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#quota, at: now };
    bucket.tokens = Math.min(this.#quota, bucket.tokens + ((now - bucket.at) / 1000) * this.#quota);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return (1 - bucket.tokens) / this.#quota;
  }

  retryAfterHeaders(seconds: number): Record<string, string> {
    switch (this.#retryAfterMode) {
      case 'seconds':
        return { 'retry-after': String(Math.max(1, Math.ceil(seconds))) };
      case 'zero':
        return { 'retry-after': '0' };
      case 'fractional':
        return { 'retry-after': String(Math.max(0.01, Math.ceil(seconds * 100) / 100)) };
      case 'absent':
        return {};
    }
  }
}
