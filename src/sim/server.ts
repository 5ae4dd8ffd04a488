/**
 * The vendor API simulator: a real HTTP server (node:http) that implements the vendor
 * contract with its extensions (branch listing, from/to, pagination), authentication,
 * a per-key token-bucket quota, latency, and seeded fault injection, and counts what
 * it saw so that tests and benchmarks can check a client's behaviour from outside.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseVendorTimestamp } from '../vendor-api/schemas.js';
import type { RecordKind } from '../vendor-api/schemas.js';
import type { DatasetOptions, MutationOptions, MutationReport } from './dataset.js';
import { Dataset, resolveDatasetOptions, stripUndefined } from './dataset.js';
import { Prng } from './prng.js';

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

/** One record the simulator corrupted, so that a test can account for what a client set aside. */
export interface InjectedBadRecord {
  /** Epoch ms. */
  at: number;
  path: string;
  /** The request's query string, including the leading "?". */
  query: string;
  kind: BadRecordKind;
  recordKind: RecordKind;
  /** Id of the good record that was replaced. */
  originalId: number;
  /** For duplicateId: the id the corrupted copy carries. */
  duplicateOf?: number;
}

const API_PATHS = ['/branches', '/employees', '/sales'] as const;
type ApiPath = (typeof API_PATHS)[number];
const MAX_PAGE_SIZE = 500;

type JsonRecord = Record<string, unknown> & { id: number };

interface Paging {
  sentToken: string | undefined;
  firstToken: string;
  nextToken: string | null;
}

/** A successful list answer, before faults are applied. */
interface ListAnswer {
  kind: 'list';
  path: ApiPath;
  query: string;
  recordKind: RecordKind;
  records: JsonRecord[];
  wrap: (records: unknown[]) => Record<string, unknown>;
  paging: Paging | undefined;
}

/** Any other answer (errors), sent as JSON. */
interface PlainAnswer {
  kind: 'plain';
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type Answer = ListAnswer | PlainAnswer;

interface Bucket {
  tokens: number;
  at: number;
}

function error(status: number, message: string, headers?: Record<string, string>): PlainAnswer {
  return { kind: 'plain', status, body: { error: message }, ...(headers ? { headers } : {}) };
}

/** Quotes a client-supplied value for an error message, shortened so that a huge parameter cannot bloat it. */
function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

function zeroFaults(): Record<FaultKind, number> {
  return Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
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

function checkNumber(name: string, value: number, min: number, max = Number.POSITIVE_INFINITY): void {
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

function checkQuota(quota: number): void {
  if (!(quota === 0 || (Number.isFinite(quota) && quota >= 1))) {
    throw new RangeError(
      `quota must be 0 (unlimited) or a number >= 1 (requests per second), got ${String(quota)}`,
    );
  }
}

function checkBadRecordKinds(kinds: readonly string[]): void {
  if (kinds.length === 0) throw new RangeError('badRecordKinds must name at least one kind');
  for (const kind of kinds) {
    if (!(BAD_RECORD_KINDS as readonly string[]).includes(kind)) {
      throw new RangeError(
        `unknown bad record kind ${JSON.stringify(kind)}; expected one of ${BAD_RECORD_KINDS.join(', ')}`,
      );
    }
  }
}

function checkRetryAfterMode(mode: string): void {
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

/** Parses an id parameter: an integer, or undefined when it is not one. */
function parseId(raw: string): number | undefined {
  if (!/^-?\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

const HTML_PAGE =
  '<html><head><title>503 Service Temporarily Unavailable</title></head>' +
  '<body><h1>Service Temporarily Unavailable</h1><p>Please try again later.</p></body></html>';

const BAD_TIMESTAMPS: readonly string[] = [
  '2023-02-30 12:00:00',
  '2023-13-01 25:61:00',
  '01/02/2023 10:00',
  'yesterday',
];

/**
 * A running simulator. Start it with `VendorSimulator.start(options)`, stop it with
 * `await sim.stop()`. Knobs can change at run time (setFaults, setQuota, setLatency…).
 */
export class VendorSimulator {
  /** The options it was started with (defaults filled in; later set* calls are not reflected here). */
  readonly options: Readonly<SimOptions>;
  #server: Server;
  #port = 0;
  #dataset: Dataset;
  #apiKeys: Set<string>;
  #quota: number;
  #retryAfterMode: RetryAfterMode;
  #latencyMs: number;
  #latencyJitterMs: number;
  #faults: FaultRates;
  #slowMs: number;
  #badRecordKinds: BadRecordKind[];
  #faultPrng: Prng;
  #jitterPrng: Prng;
  #buckets = new Map<string, Bucket>();
  #counters: SimCounters = emptyCounters();
  #window: number[] = [];
  #badRecords: InjectedBadRecord[] = [];
  #sockets = new Set<Socket>();
  #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  #closed: Promise<void> | undefined;

  private constructor(options: SimOptions) {
    this.options = options;
    this.#dataset = options.dataset ?? Dataset.generate(options);
    this.#apiKeys = new Set(options.apiKeys);
    this.#quota = options.quota;
    this.#retryAfterMode = options.retryAfterMode;
    this.#latencyMs = options.latencyMs;
    this.#latencyJitterMs = options.latencyJitterMs;
    this.#faults = { ...zeroFaults(), ...stripUndefined(options.faults) };
    this.#slowMs = options.slowMs;
    this.#badRecordKinds = [...options.badRecordKinds];
    this.#faultPrng = new Prng(options.faultSeed, 3);
    this.#jitterPrng = new Prng(options.faultSeed, 4);
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        // A bug in the handler must not crash the process that hosts the simulator (often a test run).
        if (!res.headersSent && !res.destroyed) this.#send(res, 500, { error: 'simulator internal error' });
        else res.destroy();
      });
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /**
   * Starts a simulator and resolves once it listens. Rejects when an option is invalid, or
   * when the port is taken ("port N is busy; set SIM_PORT or --port to a free port").
   */
  static async start(options: Partial<SimOptions> = {}): Promise<VendorSimulator> {
    const sim = new VendorSimulator(resolveSimOptions(options));
    await sim.#listen();
    return sim;
  }

  async #listen(): Promise<void> {
    const { port, host } = this.options;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        if (err.code === 'EADDRINUSE') {
          reject(new Error(`port ${port} is busy; set SIM_PORT or --port to a free port`));
        } else if (err.code === 'EACCES') {
          reject(new Error(`port ${port} needs privileges; set SIM_PORT or --port to a port above 1023`));
        } else {
          reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`));
        }
      };
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    const address = this.#server.address();
    if (address === null || typeof address === 'string')
      throw new Error('simulator: server has no TCP address');
    this.#port = address.port;
  }

  /** The TCP port it listens on (the chosen one when started with port 0). */
  get port(): number {
    return this.#port;
  }

  /** Base URL, e.g. http://127.0.0.1:8080 (no trailing slash). */
  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host}:${this.#port}`;
  }

  /** The data currently served (live: later mutations show up in it; clone it to keep a snapshot). */
  get dataset(): Dataset {
    return this.#dataset;
  }

  /** Serves another dataset from now on. */
  setDataset(dataset: Dataset): void {
    this.#dataset = dataset;
  }

  /** Applies seeded changes to the served data; see Dataset.mutate and MutationReport. */
  mutate(options: Partial<MutationOptions> = {}): MutationReport {
    return this.#dataset.mutate(options);
  }

  /** Changes some fault rates (0..1); kinds not named keep their rate. */
  setFaults(rates: Partial<FaultRates>): void {
    this.#faults = { ...this.#faults, ...stripUndefined(checkFaultRates(rates)) };
  }

  /** The current fault rates. */
  faults(): FaultRates {
    return { ...this.#faults };
  }

  /** Changes the corruptions a badRecord fault may choose from. */
  setBadRecordKinds(kinds: BadRecordKind[]): void {
    checkBadRecordKinds(kinds);
    this.#badRecordKinds = [...kinds];
  }

  /** Changes the extra delay of a slow fault, ms. */
  setSlowMs(ms: number): void {
    checkNumber('slowMs', ms, 0);
    this.#slowMs = ms;
  }

  /** Changes the quota (requests per second per key; 0 = unlimited). Every key starts again with a full bucket. */
  setQuota(quota: number): void {
    checkQuota(quota);
    this.#quota = quota;
    this.#buckets.clear();
  }

  /** Changes the form of Retry-After on 429. */
  setRetryAfterMode(mode: RetryAfterMode): void {
    checkRetryAfterMode(mode);
    this.#retryAfterMode = mode;
  }

  /** Changes the delay before every answer (and optionally its random jitter), ms. */
  setLatency(ms: number, jitterMs = this.#latencyJitterMs): void {
    checkNumber('latencyMs', ms, 0);
    checkNumber('latencyJitterMs', jitterMs, 0);
    this.#latencyMs = ms;
    this.#latencyJitterMs = jitterMs;
  }

  /** A copy of the counters. */
  counters(): SimCounters {
    return structuredClone(this.#counters);
  }

  /** Sets all counters back to zero and empties the injected-bad-record log. */
  resetCounters(): void {
    this.#counters = emptyCounters();
    this.#window = [];
    this.#badRecords = [];
  }

  /** The records corrupted by badRecord faults, oldest first (bounded by badRecordLogLimit). */
  injectedBadRecords(): InjectedBadRecord[] {
    return structuredClone(this.#badRecords);
  }

  /** Closes the server, destroys open connections and clears pending timers. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#closed = new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
    });
    for (const socket of this.#sockets) socket.destroy();
    return this.#closed;
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.add(timer);
    });
  }

  #noteRequest(path: string): void {
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

  /** Takes a token from the key's bucket, or returns the seconds until the next token. */
  #takeToken(key: string): number | undefined {
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

  #retryAfterHeaders(seconds: number): Record<string, string> {
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

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A body is never expected; reading it keeps the connection reusable.
    req.resume();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    this.#noteRequest(url.pathname);
    const answer = this.#decide(req, url);
    const latency =
      this.#latencyMs + (this.#latencyJitterMs > 0 ? this.#jitterPrng.next() * this.#latencyJitterMs : 0);

    if (answer.kind === 'plain') {
      await this.#sleep(latency);
      if (this.#stopped || res.destroyed) return;
      this.#send(res, answer.status, answer.body, answer.headers);
      return;
    }

    // Faults are drawn up front, in a fixed order, so that a fault seed replays the same sequence.
    const f = this.#faults;
    const draw = (kind: FaultKind): boolean => {
      const hit = this.#faultPrng.chance(f[kind]);
      if (hit) this.#counters.faultsInjected[kind] += 1;
      return hit;
    };
    if (draw('drop')) {
      await this.#sleep(latency);
      res.socket?.destroy();
      res.destroy();
      return;
    }
    if (draw('error5xx')) {
      const status = this.#faultPrng.pick([500, 502, 503]);
      await this.#sleep(latency);
      if (this.#stopped || res.destroyed) return;
      this.#send(res, status, { error: `simulated server error ${status}` });
      return;
    }
    const slow = draw('slow');
    const html = draw('html');
    const nonJson = !html && draw('nonJson');
    let text: string | undefined;
    if (!html) {
      // A body that will be cut in half is never read as records: corrupting records in it
      // would log bad records no client could ever see.
      const records = nonJson ? answer.records : this.#corrupt(answer);
      const payload = answer.wrap(records);
      if (answer.paging) {
        const repeat = draw('repeatToken');
        payload['next_page_token'] = repeat
          ? (answer.paging.sentToken ?? answer.paging.firstToken)
          : answer.paging.nextToken;
      }
      text = JSON.stringify(payload);
      // Any proper prefix of a JSON object is invalid JSON, so half of it never parses.
      if (nonJson) text = text.slice(0, Math.floor(text.length / 2));
    }
    await this.#sleep(latency + (slow ? this.#slowMs : 0));
    if (this.#stopped || res.destroyed) return;
    if (text === undefined) this.#sendRaw(res, 200, HTML_PAGE, 'text/html; charset=utf-8');
    else this.#sendRaw(res, 200, text, 'application/json; charset=utf-8');
  }

  #corrupt(answer: ListAnswer): unknown[] {
    const out: unknown[] = [];
    let previousIntact = false;
    answer.records.forEach((record, index) => {
      if (!this.#faultPrng.chance(this.#faults.badRecord)) {
        out.push(record);
        previousIntact = true;
        return;
      }
      const previous = answer.records[index - 1];
      // A duplicate copies the id of the record before it only when that record went out
      // intact: copying the id of a record that was itself corrupted (say, its id removed)
      // would make a plausible record with another sale's content, which no client could
      // tell from the truth.
      const kinds = this.#badRecordKinds.filter(
        (k) =>
          (k !== 'badTimestamp' || answer.recordKind === 'sale') &&
          (k !== 'duplicateId' || (previous !== undefined && previousIntact)),
      );
      if (kinds.length === 0) {
        out.push(record);
        previousIntact = true;
        return;
      }
      previousIntact = false;
      const kind = this.#faultPrng.pick(kinds);
      const copy: Record<string, unknown> = { ...record };
      const entry: InjectedBadRecord = {
        at: Date.now(),
        path: answer.path,
        query: answer.query,
        kind,
        recordKind: answer.recordKind,
        originalId: record.id,
      };
      switch (kind) {
        case 'missingId':
          delete copy['id'];
          break;
        case 'badTimestamp':
          copy['transaction_timestamp'] = this.#faultPrng.pick(BAD_TIMESTAMPS);
          break;
        case 'stringNumber': {
          const field = { sale: 'quantity', branch: 'employees', employee: 'id' }[answer.recordKind];
          copy[field] = String(record[field]);
          break;
        }
        case 'duplicateId':
          copy['id'] = previous?.id;
          entry.duplicateOf = previous?.id;
          break;
      }
      this.#counters.faultsInjected.badRecord += 1;
      this.#badRecords.push(entry);
      const limit = this.options.badRecordLogLimit;
      if (this.#badRecords.length > limit) this.#badRecords.splice(0, this.#badRecords.length - limit);
      out.push(copy);
    });
    return out;
  }

  #send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.#sendRaw(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
  }

  #sendRaw(
    res: ServerResponse,
    status: number,
    text: string,
    contentType: string,
    headers: Record<string, string> = {},
  ): void {
    this.#counters.byStatus[status] = (this.#counters.byStatus[status] ?? 0) + 1;
    if (status === 401) this.#counters.unauthorized401 += 1;
    if (status === 429) this.#counters.throttled429 += 1;
    const body = Buffer.from(text, 'utf8');
    res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': String(body.length) });
    res.end(body);
  }

  /** Authentication, quota, method and routing, in that order; the key itself is never logged or echoed. */
  #decide(req: IncomingMessage, url: URL): Answer {
    const header = req.headers['x-api-key'];
    const key = Array.isArray(header) ? header[0] : header;
    if (key === undefined || !this.#apiKeys.has(key)) {
      return error(401, 'missing or invalid x-api-key header');
    }
    const wait = this.#takeToken(key);
    if (wait !== undefined) return error(429, 'rate limited', this.#retryAfterHeaders(wait));
    if (req.method !== 'GET') {
      return error(405, `method ${req.method ?? '?'} not allowed; the vendor API only answers GET`, {
        allow: 'GET',
      });
    }
    const params = url.searchParams;
    switch (url.pathname) {
      case '/branches':
        return this.#branches(params, url.search);
      case '/employees':
        return this.#employees(params, url.search);
      case '/sales':
        return this.#sales(params, url.search);
      default:
        return error(404, `unknown path ${shown(url.pathname)}; expected /branches, /employees or /sales`);
    }
  }

  #branches(params: URLSearchParams, query: string): Answer {
    const name = params.get('branch');
    const all = this.#dataset.branches as JsonRecord[];
    const records = name === null ? all : all.filter((b) => b.branch_name === name);
    return this.#list(
      '/branches',
      query,
      params,
      name === null ? 'all' : `name=${name}`,
      'branch',
      records,
      (r) => ({
        result: r,
      }),
    );
  }

  #employees(params: URLSearchParams, query: string): Answer {
    const raw = params.get('branchID');
    if (raw === null) return error(400, 'branchID is required: /employees?branchID=<integer>');
    const branchId = parseId(raw);
    if (branchId === undefined) return error(400, `branchID must be an integer, got ${shown(raw)}`);
    const employees = this.#dataset.employeesByBranch.get(branchId);
    const paged = this.#pageParams(params, '/employees', `branchID=${branchId}`);
    if ('kind' in paged) return paged;
    if (!employees) return error(404, `no branch with id ${branchId}`);
    return this.#paginate('/employees', query, paged, 'employee', employees, (r) => ({
      result: { branch_id: branchId, employees: r },
    }));
  }

  #sales(params: URLSearchParams, query: string): Answer {
    const raw = params.get('salespersonsID');
    if (raw === null) return error(400, 'salespersonsID is required: /sales?salespersonsID=<integer>');
    const employeeId = parseId(raw);
    if (employeeId === undefined) return error(400, `salespersonsID must be an integer, got ${shown(raw)}`);
    const bounds: Record<'from' | 'to', number | undefined> = { from: undefined, to: undefined };
    for (const name of ['from', 'to'] as const) {
      const value = params.get(name);
      if (value === null) continue;
      const ms = parseVendorTimestamp(value);
      if (ms === undefined) {
        return error(
          400,
          `${name} must be a UTC timestamp of the form YYYY-MM-DD HH:MM:SS, got ${shown(value)}`,
        );
      }
      bounds[name] = ms;
    }
    const paged = this.#pageParams(
      params,
      '/sales',
      `salespersonsID=${employeeId}&from=${params.get('from') ?? ''}&to=${params.get('to') ?? ''}`,
    );
    if ('kind' in paged) return paged;
    const sales = this.#dataset.salesBySalesperson.get(employeeId);
    if (!sales) return error(404, `no salesperson with id ${employeeId}`);
    const { from, to } = bounds;
    const records = sales.filter((s) => {
      const ms = parseVendorTimestamp(s.transaction_timestamp) ?? Number.NaN;
      return (from === undefined || ms >= from) && (to === undefined || ms < to);
    });
    return this.#paginate('/sales', query, paged, 'sale', records, (r) => ({
      result: { employee_id: employeeId, sales: r },
    }));
  }

  #list(
    path: ApiPath,
    query: string,
    params: URLSearchParams,
    queryKey: string,
    recordKind: RecordKind,
    records: JsonRecord[],
    wrap: ListAnswer['wrap'],
  ): Answer {
    const paged = this.#pageParams(params, path, queryKey);
    if ('kind' in paged) return paged;
    return this.#paginate(path, query, paged, recordKind, records, wrap);
  }

  #tokenHash(path: ApiPath, queryKey: string): string {
    return createHash('sha256').update(`${path}\n${queryKey}`).digest('base64url').slice(0, 16);
  }

  #token(hash: string, after: number | null): string {
    return Buffer.from(JSON.stringify({ a: after, q: hash })).toString('base64url');
  }

  /**
   * Reads page_size and page_token. A token is base64url JSON of the last id served
   * and a hash of the query's filters, so a token from another query is refused and
   * pages stay consistent when records are added between requests.
   */
  #pageParams(
    params: URLSearchParams,
    path: ApiPath,
    queryKey: string,
  ):
    | PlainAnswer
    | { size: number | undefined; token: string | undefined; after: number | null; hash: string } {
    const hash = this.#tokenHash(path, queryKey);
    const sizeRaw = params.get('page_size');
    let size: number | undefined;
    if (sizeRaw !== null) {
      size = /^\d{1,4}$/.test(sizeRaw) ? Number(sizeRaw) : Number.NaN;
      if (!(size >= 1 && size <= MAX_PAGE_SIZE)) {
        return error(400, `page_size must be an integer in 1..${MAX_PAGE_SIZE}, got ${shown(sizeRaw)}`);
      }
    }
    const token = params.get('page_token') ?? undefined;
    let after: number | null = null;
    if (token !== undefined) {
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      } catch {
        decoded = undefined;
      }
      const ok =
        typeof decoded === 'object' &&
        decoded !== null &&
        'q' in decoded &&
        'a' in decoded &&
        decoded.q === hash &&
        (decoded.a === null || Number.isSafeInteger(decoded.a)) &&
        this.#token(hash, decoded.a as number | null) === token;
      if (!ok) {
        return error(
          400,
          'page_token does not belong to this query (or is damaged); repeat the query without page_token to start over',
        );
      }
      after = (decoded as { a: number | null }).a;
    }
    return { size, token, after, hash };
  }

  #paginate(
    path: ApiPath,
    query: string,
    paged: { size: number | undefined; token: string | undefined; after: number | null; hash: string },
    recordKind: RecordKind,
    records: JsonRecord[],
    wrap: ListAnswer['wrap'],
  ): ListAnswer {
    const base = { kind: 'list' as const, path, query, recordKind, wrap };
    if (paged.size === undefined && paged.token === undefined) {
      return { ...base, records, paging: undefined };
    }
    const after = paged.after;
    const rest = after === null ? records : records.filter((r) => r.id > after);
    const page = paged.size === undefined ? rest : rest.slice(0, paged.size);
    const last = page.at(-1);
    const nextToken = rest.length > page.length && last ? this.#token(paged.hash, last.id) : null;
    return {
      ...base,
      records: page,
      paging: { sentToken: paged.token, firstToken: this.#token(paged.hash, null), nextToken },
    };
  }
}
