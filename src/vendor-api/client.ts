/**
 * The vendor API client (ky). One method call is exactly one HTTP request: retries belong
 * to Temporal's activity retry policy, so ky's own retry is off. Every failure becomes a
 * domain error that names the request, never the API key and never the body: a body can
 * hold records, and failure messages are stored in workflow history unencrypted. Bodies
 * that cannot be read go to the quarantine table (VendorBadBodyError carries them there).
 */
import ky, { type KyInstance } from 'ky';
import type { z } from 'zod';
import { JsonSyntaxError, ownParseProblem, parseExactJson } from '../shared/exact-json.js';
import {
  ConfigError,
  VendorBadBodyError,
  VendorHttpError,
  VendorRateLimitedError,
  VendorUnavailableError,
} from '../shared/errors.js';
import type { VendorRequestOutcome } from '../metrics/worker.js';
import { isInsecureVendorUrl } from '../shared/loopback.js';
import { branchesEnvelope, employeesEnvelope, idKey, salesEnvelope } from './schemas.js';

/** How to reach the vendor. */
export interface VendorClientOptions {
  url: string;
  apiKey: string;
  /** Deadline of one request, headers and body together. */
  timeoutMs: number;
  /** Allow an `http://` URL on a host other than loopback (the key then travels in clear). */
  allowInsecureHttp?: boolean;
  /** Told of every request once it ends (the metrics: src/metrics/worker.ts). */
  onRequest?: (r: VendorRequestOutcome) => void;
}

/** One page of a list: records as received (unvalidated), the token of the next page, the request. */
export interface VendorPage {
  records: unknown[];
  nextPageToken: string | null;
  /** Path and query of the request, for quarantine and error messages. Holds no secret. */
  request: string;
}

/** A sales window: `from <= transaction_timestamp < to`, both vendor timestamps. */
export interface VendorWindow {
  from: string;
  to: string;
}

/** Optional page position. */
export interface PageParams {
  pageSize?: number;
  pageToken?: string | null;
}

type Params = Record<string, string | number | undefined | null>;

/** Redirects followed within the vendor's own origin before a request is given up. */
const MAX_REDIRECTS = 3;

/** Parses a Retry-After header: seconds (integer or fractional) or an HTTP date. Undefined when absent or unreadable. */
function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const secs = Number(header.trim());
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The three paths of the contract. */
export type VendorPath = '/branches' | '/employees' | '/sales';

/** What one call asks: path and query parameters. Holds no secret (the key travels in a header). */
export interface VendorRequest {
  path: VendorPath;
  params: Record<string, string>;
}

/**
 * One answer as received, whatever its status: the landing zone keeps it before anything
 * reads it, and a replay reads it back instead of asking the vendor again.
 */
export interface VendorAnswer {
  request: VendorRequest;
  status: number;
  /** The headers a reader needs: content-type, retry-after (429), location (3xx). */
  headers: Record<string, string>;
  /** The body's bytes exactly as received. */
  body: Uint8Array;
  /** When the answer was complete (ISO). */
  fetchedAt: string;
}

function vendorRequest(path: VendorPath, params: Params): VendorRequest {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) kept[k] = String(v);
  return { path, params: kept };
}

/** The request of each call of the contract (pure: the activities build them, the landing zone keys by them). */
export const vendorRequests = {
  /** `/branches?branch=NAME`: the branch with that exact name (an empty list when none). */
  branchByName: (name: string): VendorRequest => vendorRequest('/branches', { branch: name }),
  /** `/branches` without a name (extension): one page of all branches. */
  allBranches: (page: PageParams = {}): VendorRequest => vendorRequest('/branches', pageParams(page)),
  /** `/employees?branchID=ID`: one page of a branch's employees. `branchId` is the id's decimal digits. */
  employees: (branchId: string, page: PageParams = {}): VendorRequest =>
    vendorRequest('/employees', { branchID: branchId, ...pageParams(page) }),
  /** `/sales?salespersonsID=ID`: one page of a salesperson's sales, in the window when given. */
  sales: (employeeId: string, window: VendorWindow | null, page: PageParams = {}): VendorRequest =>
    vendorRequest('/sales', { salespersonsID: employeeId, ...(window ?? {}), ...pageParams(page) }),
};

/** Path and query of a request as one string, for messages and quarantine rows. */
export function describeRequest(req: VendorRequest): string {
  return describe(req.path, req.params);
}

const HEADERS_KEPT = ['content-type', 'retry-after', 'location'] as const;
const utf8 = new TextDecoder('utf-8');

/** The body as text (invalid UTF-8 replaced, as \`Response.text()\` does). */
function answerText(answer: VendorAnswer): string {
  return utf8.decode(answer.body);
}

/** The vendor API: `fetch` makes one request and returns the answer; `read` turns an answer into a page or a domain error. */
export class VendorClient {
  private readonly http: KyInstance;
  private readonly origin: string;

  constructor(private readonly opts: VendorClientOptions) {
    if (isInsecureVendorUrl(opts.url) && !opts.allowInsecureHttp) {
      throw new ConfigError(
        `VENDOR_API_URL=${opts.url} is plain http to a host other than loopback: the API key would travel in clear. Use https, or set VENDOR_ALLOW_INSECURE_HTTP=true if this network is trusted.`,
      );
    }
    this.origin = new URL(opts.url).origin;
    this.http = ky.create({
      headers: { 'x-api-key': opts.apiKey, accept: 'application/json' },
      // One deadline covers the headers and the body (see fetch): ky's timeout stops at the headers.
      timeout: false,
      retry: 0,
      throwHttpErrors: false,
      // Redirects are followed by hand, and only within the vendor's origin: fetch would send
      // the key to wherever a Location header points.
      redirect: 'manual',
    });
  }

  /** Reads an answer of this vendor (a 3xx is judged against this client's origin). */
  read(answer: VendorAnswer): VendorPage {
    return readAnswer(answer, this.origin);
  }

  /** One GET (see send), told to `onRequest` with its status (null: no answer) and duration. */
  async fetch(req: VendorRequest): Promise<VendorAnswer> {
    const started = performance.now();
    let status: number | null = null;
    try {
      const answer = await this.send(req);
      status = answer.status;
      return answer;
    } finally {
      this.opts.onRequest?.({ path: req.path, status, seconds: (performance.now() - started) / 1000 });
    }
  }

  /**
   * One GET, following redirects within the vendor's origin. Returns the answer whatever its
   * status; throws VendorUnavailableError only when no complete answer came (network, deadline).
   */
  private async send(req: VendorRequest): Promise<VendorAnswer> {
    const request = describeRequest(req);
    let target = new URL(`${this.opts.url}${req.path}`);
    for (const [k, v] of Object.entries(req.params)) target.searchParams.set(k, v);
    // One deadline for the whole answer: a body that stalls after the headers times out too.
    const deadline = AbortSignal.timeout(this.opts.timeoutMs);
    try {
      for (let hops = 0; ; hops++) {
        const res = await this.http.get(target, { signal: deadline });
        const next = res.status >= 300 && res.status <= 399 ? this.within(res, target) : undefined;
        if (next && hops < MAX_REDIRECTS) {
          await res.body?.cancel();
          target = next;
          continue;
        }
        const body = new Uint8Array(await res.arrayBuffer());
        const headers: Record<string, string> = {};
        for (const h of HEADERS_KEPT) {
          const v = res.headers.get(h);
          if (v !== null) headers[h] = v;
        }
        return { request: req, status: res.status, headers, body, fetchedAt: new Date().toISOString() };
      }
    } catch (cause) {
      if (deadline.aborted) {
        throw new VendorUnavailableError(
          `vendor did not answer ${request} within ${this.opts.timeoutMs} ms (VENDOR_TIMEOUT_MS)`,
          request,
          { cause },
        );
      }
      throw new VendorUnavailableError(`vendor request ${request} failed: ${networkReason(cause)}`, request, {
        cause,
      });
    }
  }

  /** Where a 3xx points when it stays within the vendor's origin; undefined otherwise. */
  private within(res: Response, from: URL): URL | undefined {
    const to = locationOf(res.headers.get('location') ?? undefined, from);
    return to && to.origin === this.origin ? to : undefined;
  }
}

function locationOf(location: string | undefined, from: URL | string): URL | undefined {
  try {
    return location ? new URL(location, from) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns an answer into a page, or into the domain error that carries the retry decision:
 * 429 -> VendorRateLimitedError, other non-200 -> VendorHttpError, a 200 whose body is not the
 * path's envelope (or answers about another id than the one asked) -> VendorBadBodyError.
 */
function readAnswer(answer: VendorAnswer, origin: string): VendorPage {
  const { request: req, status } = answer;
  const request = describeRequest(req);
  if (status === 200) return readPage(req, answerText(answer));
  if (status === 429)
    throw new VendorRateLimitedError(
      request,
      parseRetryAfter(answer.headers['retry-after'] ?? null, Date.parse(answer.fetchedAt)),
    );
  if (status === 401 || status === 403) {
    throw new VendorHttpError(
      `vendor refused the API key (${status}) on ${request}: check VENDOR_API_KEY or VENDOR_API_KEY_FILE`,
      status,
      request,
    );
  }
  if (status >= 300 && status <= 399) {
    const to = locationOf(answer.headers.location, origin);
    const why = !to
      ? 'without a usable Location header'
      : to.origin !== origin
        ? `to another host, ${to.host}; the request was not followed, so the API key stays with ${new URL(origin).host}. If the vendor moved, update VENDOR_API_URL`
        : `more than ${MAX_REDIRECTS} times`;
    throw new VendorHttpError(
      to && to.origin !== origin
        ? `vendor redirected ${request} (${status}) ${why}`
        : `vendor answered ${status} on ${request} ${why}`,
      status,
      request,
    );
  }
  throw new VendorHttpError(
    `vendor answered ${status} on ${request} (${answer.body.length} bytes of body, not kept in this message)`,
    status,
    request,
  );
}

/** A 200's body read as the path's envelope. */
function readPage(req: VendorRequest, text: string): VendorPage {
  const body = { text, request: describeRequest(req) };
  switch (req.path) {
    case '/branches':
      return page(req, body, branchesEnvelope, (r) => r.result);
    case '/employees':
      return page(req, body, employeesEnvelope, (r) => {
        checkEnvelopeId(body, 'branch_id', r.result.branch_id, req.params.branchID ?? '');
        return r.result.employees;
      });
    case '/sales':
      return page(req, body, salesEnvelope, (r) => {
        checkEnvelopeId(body, 'employee_id', r.result.employee_id, req.params.salespersonsID ?? '');
        return r.result.sales;
      });
  }
}

/** An answer about another id than the one asked for is never stored under the asked id. */
function checkEnvelopeId(
  body: { text: string; request: string },
  field: string,
  got: Parameters<typeof idKey>[0],
  asked: string,
): void {
  if (idKey(got) !== asked) {
    throw new VendorBadBodyError(
      `vendor answered ${body.request} with result.${field} ${idKey(got)} instead of ${asked}; the body was set aside`,
      body.request,
      body.text,
    );
  }
}

function page<S extends z.ZodType>(
  req: VendorRequest,
  body: { text: string; request: string },
  envelope: S,
  records: (r: z.infer<S>) => unknown[],
): VendorPage {
  const path = req.path;
  let json: unknown;
  try {
    json = parseExactJson(body.text);
  } catch (cause) {
    const where = cause instanceof JsonSyntaxError ? ` (${cause.message})` : '';
    throw new VendorBadBodyError(
      `vendor answered 200 on ${body.request} with a body that is not JSON${where}; the body was set aside`,
      body.request,
      body.text,
      { cause },
    );
  }
  // A duplicate key in the envelope (two `employee_id`s, two `sales` lists): which one is meant?
  const envelopeProblem =
    ownParseProblem(json) ?? ownParseProblem((json as { result?: unknown } | null)?.result);
  if (envelopeProblem) {
    throw new VendorBadBodyError(
      `vendor answered 200 on ${body.request} with an ambiguous ${path} envelope (${envelopeProblem}); the body was set aside`,
      body.request,
      body.text,
    );
  }
  const parsed = envelope.safeParse(json);
  if (!parsed.success) {
    throw new VendorBadBodyError(
      `vendor answered 200 on ${body.request} with JSON that is not the ${path} envelope (${parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}); the body was set aside`,
      body.request,
      body.text,
    );
  }
  const data = parsed.data as z.infer<S> & { next_page_token?: string | null };
  return {
    records: records(data),
    nextPageToken: data.next_page_token ?? null,
    request: body.request,
  };
}

/** A network failure's reason without any URL (undici puts the cause's code in `cause`). */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  return err instanceof Error ? err.name : 'network error';
}

function pageParams(page: PageParams): Params {
  return { page_size: page.pageSize, page_token: page.pageToken ?? undefined };
}

/** Path and query as a string; the API key travels in a header and so never appears here. */
export function describe(path: string, params: Params): string {
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
  return q ? `${path}?${q}` : path;
}
