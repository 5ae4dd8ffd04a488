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
import type { VendorRequest } from '../metrics/worker.js';
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
  onRequest?: (r: VendorRequest) => void;
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

/** True when `url` is plain http to a host other than loopback: the API key would cross the network in clear. */
export function isInsecureVendorUrl(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && !/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(u.hostname);
}

/** Parses a Retry-After header: seconds (integer or fractional) or an HTTP date. Undefined when absent or unreadable. */
function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const secs = Number(header.trim());
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The vendor API. */
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
      // One deadline covers the headers and the body (see get): ky's timeout stops at the headers.
      timeout: false,
      retry: 0,
      throwHttpErrors: false,
      // Redirects are followed by hand, and only within the vendor's origin: fetch would send
      // the key to wherever a Location header points.
      redirect: 'manual',
    });
  }

  /** `/branches?branch=NAME`: the branch with that exact name (an empty list when none). */
  async branchByName(name: string): Promise<VendorPage> {
    const body = await this.get('branches', { branch: name });
    return this.page('/branches', { branch: name }, body, branchesEnvelope, (r) => r.result);
  }

  /** `/branches` without a name (extension): one page of all branches. */
  async allBranches(page: PageParams = {}): Promise<VendorPage> {
    const params = pageParams(page);
    const body = await this.get('branches', params);
    return this.page('/branches', params, body, branchesEnvelope, (r) => r.result);
  }

  /** `/employees?branchID=ID`: one page of a branch's employees. `branchId` is the id's decimal digits. */
  async employees(branchId: string, page: PageParams = {}): Promise<VendorPage> {
    const params = { branchID: branchId, ...pageParams(page) };
    const body = await this.get('employees', params);
    return this.page('/employees', params, body, employeesEnvelope, (r) => {
      this.checkEnvelopeId(body, 'branch_id', r.result.branch_id, branchId);
      return r.result.employees;
    });
  }

  /** `/sales?salespersonsID=ID`: one page of a salesperson's sales, in the window when given. */
  async sales(employeeId: string, window: VendorWindow | null, page: PageParams = {}): Promise<VendorPage> {
    const params = { salespersonsID: employeeId, ...(window ?? {}), ...pageParams(page) };
    const body = await this.get('sales', params);
    return this.page('/sales', params, body, salesEnvelope, (r) => {
      this.checkEnvelopeId(body, 'employee_id', r.result.employee_id, employeeId);
      return r.result.sales;
    });
  }

  /** An answer about another id than the one asked for is never stored under the asked id. */
  private checkEnvelopeId(
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

  private page<S extends z.ZodType>(
    path: string,
    params: Params,
    body: { text: string; request: string },
    envelope: S,
    records: (r: z.infer<S>) => unknown[],
  ): VendorPage {
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
      request: describe(path, params),
    };
  }

  /** One GET, told to `onRequest` with its status (null: no answer) and duration. */
  private async get(path: string, params: Params): Promise<{ text: string; request: string }> {
    const started = performance.now();
    let status: number | null = 200;
    try {
      return await this.send(path, params);
    } catch (err) {
      status = err instanceof VendorHttpError ? err.status : null;
      throw err;
    } finally {
      this.opts.onRequest?.({ path: `/${path}`, status, seconds: (performance.now() - started) / 1000 });
    }
  }

  /** One GET. Returns the body text of a 200; throws a domain error for anything else. */
  private async send(path: string, params: Params): Promise<{ text: string; request: string }> {
    const request = describe(`/${path}`, params);
    const searchParams: Record<string, string> = {};
    for (const [k, v] of Object.entries(params))
      if (v !== undefined && v !== null) searchParams[k] = String(v);
    let target = new URL(`${this.opts.url}/${path}`);
    for (const [k, v] of Object.entries(searchParams)) target.searchParams.set(k, v);
    // One deadline for the whole answer: a body that stalls after the headers times out too.
    const deadline = AbortSignal.timeout(this.opts.timeoutMs);
    let res: Response;
    let text: string;
    try {
      for (let hops = 0; ; hops++) {
        res = await this.http.get(target, { signal: deadline });
        if (res.status < 300 || res.status > 399) break;
        await res.body?.cancel();
        target = this.redirectTarget(res, target, request, hops);
      }
      text = await res.text();
    } catch (cause) {
      if (cause instanceof VendorHttpError) throw cause;
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
    if (res.status === 200) return { text, request };
    if (res.status === 429)
      throw new VendorRateLimitedError(request, parseRetryAfter(res.headers.get('retry-after')));
    if (res.status === 401 || res.status === 403) {
      throw new VendorHttpError(
        `vendor refused the API key (${res.status}) on ${request}: check VENDOR_API_KEY or VENDOR_API_KEY_FILE`,
        res.status,
        request,
      );
    }
    throw new VendorHttpError(
      `vendor answered ${res.status} on ${request} (${text.length} characters of body, not kept in this message)`,
      res.status,
      request,
    );
  }

  /** Where a 3xx points, when it stays within the vendor's origin; otherwise a non-retryable error. */
  private redirectTarget(res: Response, from: URL, request: string, hops: number): URL {
    const location = res.headers.get('location');
    let to: URL | undefined;
    try {
      to = location ? new URL(location, from) : undefined;
    } catch {
      to = undefined;
    }
    if (!to) {
      throw new VendorHttpError(
        `vendor answered ${res.status} on ${request} without a usable Location header`,
        res.status,
        request,
      );
    }
    if (to.origin !== this.origin) {
      throw new VendorHttpError(
        `vendor redirected ${request} (${res.status}) to another host, ${to.host}; the request was not followed, so the API key stays with ${new URL(this.origin).host}. If the vendor moved, update VENDOR_API_URL`,
        res.status,
        request,
      );
    }
    if (hops >= MAX_REDIRECTS) {
      throw new VendorHttpError(
        `vendor redirected ${request} more than ${MAX_REDIRECTS} times`,
        res.status,
        request,
      );
    }
    return to;
  }
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
