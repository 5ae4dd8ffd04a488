/**
 * The vendor API client (ky). One method call is exactly one HTTP request: retries belong
 * to Temporal's activity retry policy, so ky's own retry is off. Every failure becomes a
 * domain error that names the request (never the API key).
 */
import ky, { type KyInstance, TimeoutError } from 'ky';
import type { z } from 'zod';
import {
  VendorBadBodyError,
  VendorHttpError,
  VendorRateLimitedError,
  VendorUnavailableError,
} from '../shared/errors.js';
import { branchesEnvelope, employeesEnvelope, salesEnvelope } from './schemas.js';

/** How to reach the vendor. */
export interface VendorClientOptions {
  url: string;
  apiKey: string;
  timeoutMs: number;
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

/** Longest part of a bad body kept in an error or the quarantine table. */
export const RAW_SNIPPET_LIMIT = 2000;

/** Parses a Retry-After header: seconds (integer or fractional) or an HTTP date. Undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const secs = Number(header.trim());
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The vendor API. */
export class VendorClient {
  private readonly http: KyInstance;

  constructor(private readonly opts: VendorClientOptions) {
    this.http = ky.create({
      prefixUrl: opts.url,
      headers: { 'x-api-key': opts.apiKey, accept: 'application/json' },
      timeout: opts.timeoutMs,
      retry: 0,
      throwHttpErrors: false,
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

  /** `/employees?branchID=ID`: one page of a branch's employees. */
  async employees(branchId: number, page: PageParams = {}): Promise<VendorPage> {
    const params = { branchID: branchId, ...pageParams(page) };
    const body = await this.get('employees', params);
    return this.page('/employees', params, body, employeesEnvelope, (r) => r.result.employees);
  }

  /** `/sales?salespersonsID=ID`: one page of a salesperson's sales, in the window when given. */
  async sales(employeeId: number, window: VendorWindow | null, page: PageParams = {}): Promise<VendorPage> {
    const params = { salespersonsID: employeeId, ...(window ?? {}), ...pageParams(page) };
    const body = await this.get('sales', params);
    return this.page('/sales', params, body, salesEnvelope, (r) => r.result.sales);
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
      json = JSON.parse(body.text);
    } catch (cause) {
      throw new VendorBadBodyError(
        `vendor answered 200 with a body that is not JSON on ${body.request}: ${snippet(body.text, 120)}`,
        body.request,
        snippet(body.text),
        { cause },
      );
    }
    const parsed = envelope.safeParse(json);
    if (!parsed.success) {
      throw new VendorBadBodyError(
        `vendor answered 200 with JSON that is not the ${path} envelope on ${body.request}: ${parsed.error.issues
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ')}`,
        body.request,
        snippet(body.text),
      );
    }
    const data = parsed.data as z.infer<S> & { next_page_token?: string | null };
    return {
      records: records(data),
      nextPageToken: data.next_page_token ?? null,
      request: describe(path, params),
    };
  }

  /** One GET. Returns the body text of a 200; throws a domain error for anything else. */
  private async get(path: string, params: Params): Promise<{ text: string; request: string }> {
    const request = describe(`/${path}`, params);
    const searchParams: Record<string, string> = {};
    for (const [k, v] of Object.entries(params))
      if (v !== undefined && v !== null) searchParams[k] = String(v);
    let res: Response;
    let text: string;
    try {
      res = await this.http.get(path, { searchParams });
      text = await res.text();
    } catch (cause) {
      if (cause instanceof TimeoutError) {
        throw new VendorUnavailableError(
          `vendor did not answer ${request} within ${this.opts.timeoutMs} ms`,
          request,
          { cause },
        );
      }
      throw new VendorUnavailableError(
        `vendor request ${request} failed: ${(cause as Error).message}`,
        request,
        { cause },
      );
    }
    if (res.status === 200) return { text, request };
    if (res.status === 429)
      throw new VendorRateLimitedError(request, parseRetryAfter(res.headers.get('retry-after')));
    const detail = errorDetail(text);
    if (res.status === 401 || res.status === 403) {
      throw new VendorHttpError(
        `vendor refused the API key (${res.status}) on ${request}${detail}: check VENDOR_API_KEY or VENDOR_API_KEY_FILE`,
        res.status,
        request,
      );
    }
    throw new VendorHttpError(`vendor answered ${res.status} on ${request}${detail}`, res.status, request);
  }
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

function errorDetail(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: unknown };
    if (typeof j.error === 'string') return `: ${j.error}`;
  } catch {
    // not JSON: fall through to the raw snippet
  }
  return text ? `: ${snippet(text, 120)}` : '';
}

/** The start of a text, for messages and the quarantine table. */
export function snippet(text: string, limit = RAW_SNIPPET_LIMIT): string {
  return text.length > limit ? `${text.slice(0, limit)}…(${text.length} chars)` : text;
}
