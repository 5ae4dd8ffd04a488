/** What the simulator counts about the requests it saw, for tests and benchmarks to check from outside. */
import { performance } from 'node:perf_hooks';
import type { ApiPath } from './answers.js';
import { API_PATHS } from './answers.js';
import type { FaultKind } from './options.js';
import { zeroFaults } from './options.js';

/** Request counts per path; anything that is not one of the three API paths is `other`. */
export interface RequestCounts {
  '/branches': number;
  '/employees': number;
  '/sales': number;
  other: number;
}

/** What the simulator has seen since start or the last resetCounters. */
export interface SimCounters {
  /** Requests that reached the handler, by path (including 401, 429 and faulted ones). */
  requests: RequestCounts;
  total: number;
  /** Answers sent, by status code (dropped requests have none). */
  byStatus: Record<number, number>;
  throttled429: number;
  unauthorized401: number;
  /** Injected faults by kind; badRecord counts records, the others count requests. */
  faultsInjected: Record<FaultKind, number>;
  /** The most requests seen within any sliding 1 s window. */
  peakRatePerSecond: number;
  /** Epoch ms of the first and last request, or null before any. */
  firstRequestAt: number | null;
  lastRequestAt: number | null;
}

function emptyCounters(): SimCounters {
  return {
    requests: { '/branches': 0, '/employees': 0, '/sales': 0, other: 0 },
    total: 0,
    byStatus: {},
    throttled429: 0,
    unauthorized401: 0,
    faultsInjected: zeroFaults(),
    peakRatePerSecond: 0,
    firstRequestAt: null,
    lastRequestAt: null,
  };
}

/** The live counters of one simulator. */
export class Counters {
  #counters: SimCounters = emptyCounters();
  #window: number[] = [];

  noteRequest(path: string): void {
    const c = this.#counters;
    const key: keyof RequestCounts = (API_PATHS as readonly string[]).includes(path)
      ? (path as ApiPath)
      : 'other';
    c.requests[key] += 1;
    c.total += 1;
    const wall = Date.now();
    c.firstRequestAt ??= wall;
    c.lastRequestAt = wall;
    const now = performance.now();
    this.#window.push(now);
    while (this.#window.length > 0 && (this.#window[0] ?? now) <= now - 1000) this.#window.shift();
    c.peakRatePerSecond = Math.max(c.peakRatePerSecond, this.#window.length);
  }

  noteAnswer(status: number): void {
    this.#counters.byStatus[status] = (this.#counters.byStatus[status] ?? 0) + 1;
    if (status === 401) this.#counters.unauthorized401 += 1;
    if (status === 429) this.#counters.throttled429 += 1;
  }

  noteFault(kind: FaultKind): void {
    this.#counters.faultsInjected[kind] += 1;
  }

  /** A copy of the counters. */
  snapshot(): SimCounters {
    return structuredClone(this.#counters);
  }

  /** Sets all counters back to zero. */
  reset(): void {
    this.#counters = emptyCounters();
    this.#window = [];
  }
}
