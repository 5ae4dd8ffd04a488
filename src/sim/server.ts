/**
 * The vendor API simulator: a real HTTP server (node:http) that implements the vendor
 * contract with its extensions (branch listing, from/to, pagination), authentication,
 * a per-key token-bucket quota, latency, and seeded fault injection, and counts what
 * it saw so that tests and benchmarks can check a client's behaviour from outside.
 *
 * This file holds the server and its run-time knobs; the parts live beside it:
 * options.ts (options and their validation), routes.ts and paging.ts (what a request is
 * answered with), quota.ts, faults.ts and counters.ts, and control.ts (POST /_sim/mutate).
 * It re-exports the public types and names of those, so that `./server.js` (and src/sim/index.ts) offer what they always did.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Answer } from './answers.js';
import { error } from './answers.js';
import { CONTROL_PREFIX, controlAnswer } from './control.js';
import { Counters } from './counters.js';
import type { SimCounters } from './counters.js';
import type { MutationOptions, MutationReport } from './dataset.js';
import { Dataset } from './dataset.js';
import type { InjectedBadRecord } from './faults.js';
import { FaultInjector } from './faults.js';
import type { BadRecordKind, FaultRates, RetryAfterMode, SimOptions } from './options.js';
import { checkNumber, resolveSimOptions } from './options.js';
import { Prng } from './prng.js';
import { Quota } from './quota.js';
import { route } from './routes.js';

export type { BadRecordKind, FaultKind, FaultRates, RetryAfterMode, SimOptions } from './options.js';
export {
  BAD_RECORD_KINDS,
  FAULT_KINDS,
  RETRY_AFTER_MODES,
  checkFaultRates,
  resolveSimOptions,
} from './options.js';
export type { RequestCounts, SimCounters } from './counters.js';
export type { InjectedBadRecord } from './faults.js';

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
  #quota: Quota;
  #latencyMs: number;
  #latencyJitterMs: number;
  #faults: FaultInjector;
  #jitterPrng: Prng;
  #counters = new Counters();
  #sockets = new Set<Socket>();
  #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  #closed: Promise<void> | undefined;

  private constructor(options: SimOptions) {
    this.options = options;
    this.#dataset = options.dataset ?? Dataset.generate(options);
    this.#apiKeys = new Set(options.apiKeys);
    this.#quota = new Quota(options.quota, options.retryAfterMode);
    this.#latencyMs = options.latencyMs;
    this.#latencyJitterMs = options.latencyJitterMs;
    this.#faults = new FaultInjector(options, (kind) => this.#counters.noteFault(kind));
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
    this.#faults.setRates(rates);
  }

  /** The current fault rates. */
  faults(): FaultRates {
    return this.#faults.rates();
  }

  /** Changes the corruptions a badRecord fault may choose from. */
  setBadRecordKinds(kinds: BadRecordKind[]): void {
    this.#faults.setBadRecordKinds(kinds);
  }

  /** Changes the extra delay of a slow fault, ms. */
  setSlowMs(ms: number): void {
    this.#faults.setSlowMs(ms);
  }

  /** Changes the quota (requests per second per key; 0 = unlimited). Every key starts again with a full bucket. */
  setQuota(quota: number): void {
    this.#quota.setQuota(quota);
  }

  /** Changes the form of Retry-After on 429. */
  setRetryAfterMode(mode: RetryAfterMode): void {
    this.#quota.setRetryAfterMode(mode);
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
    return this.#counters.snapshot();
  }

  /** Sets all counters back to zero and empties the injected-bad-record log. */
  resetCounters(): void {
    this.#counters.reset();
    this.#faults.clearLog();
  }

  /** The records corrupted by badRecord faults, oldest first (bounded by badRecordLogLimit). */
  injectedBadRecords(): InjectedBadRecord[] {
    return this.#faults.injectedBadRecords();
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

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A body is never expected; reading it keeps the connection reusable.
    req.resume();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    if (url.pathname.startsWith(CONTROL_PREFIX)) {
      this.#control(req, res, url);
      return;
    }
    this.#counters.noteRequest(url.pathname);
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
    const outcome = this.#faults.apply(answer);
    if (outcome.kind === 'drop') {
      await this.#sleep(latency);
      res.socket?.destroy();
      res.destroy();
      return;
    }
    await this.#sleep(latency + (outcome.kind === 'answer' ? outcome.extraDelayMs : 0));
    if (this.#stopped || res.destroyed) return;
    if (outcome.kind === 'error5xx') {
      this.#send(res, outcome.status, { error: `simulated server error ${outcome.status}` });
    } else {
      this.#sendRaw(res, 200, outcome.text, outcome.contentType);
    }
  }

  /** A control request (control.ts): keyed like the API, but no quota, faults or latency, and not counted. */
  #control(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const header = req.headers['x-api-key'];
    const key = Array.isArray(header) ? header[0] : header;
    const answer =
      key === undefined || !this.#apiKeys.has(key)
        ? error(401, 'missing or invalid x-api-key header')
        : controlAnswer(this.#dataset, req.method, url);
    this.#write(
      res,
      answer.status,
      JSON.stringify(answer.body),
      'application/json; charset=utf-8',
      answer.headers,
    );
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
    this.#counters.noteAnswer(status);
    this.#write(res, status, text, contentType, headers);
  }

  /** Writes an answer, counted or not (a control answer is not vendor traffic). */
  #write(
    res: ServerResponse,
    status: number,
    text: string,
    contentType: string,
    headers: Record<string, string> = {},
  ): void {
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
    const wait = this.#quota.takeToken(key);
    if (wait !== undefined) return error(429, 'rate limited', this.#quota.retryAfterHeaders(wait));
    if (req.method !== 'GET') {
      return error(405, `method ${req.method ?? '?'} not allowed; the vendor API only answers GET`, {
        allow: 'GET',
      });
    }
    return route(this.#dataset, url);
  }
}
