/**
 * The vendor API client (ky). One method call is exactly one HTTP request: retries belong
 * to Temporal's activity retry policy, so ky's own retry is off. Every failure becomes a
 * domain error that names the request, never the API key and never the body: a body can
 * hold records, and failure messages are stored in workflow history unencrypted. A body is
 * read up to VENDOR_MAX_ANSWER_BYTES (read-body.ts) and judged by read-answer.ts.
 */
import ky, { type KyInstance } from 'ky';
import { ConfigError, VendorUnavailableError } from '../shared/errors.js';
import type { VendorRequestOutcome } from '../metrics/worker.js';
import { isInsecureVendorUrl } from '../shared/loopback.js';
import { type VendorAnswer, type VendorPage, type VendorRequest, describeRequest } from './answer.js';
import { MAX_REDIRECTS, locationOf, readAnswer } from './read-answer.js';
import { DEFAULT_MAX_ANSWER_BYTES, readBounded } from './read-body.js';

export {
  type PageParams,
  type VendorAnswer,
  type VendorPage,
  type VendorPath,
  type VendorRequest,
  type VendorWindow,
  describeRequest,
  vendorRequests,
} from './answer.js';

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
  /**
   * Most bytes of one body read, after decompression (VENDOR_MAX_ANSWER_BYTES; default
   * DEFAULT_MAX_ANSWER_BYTES). Past it the request is aborted and the answer comes back truncated.
   */
  maxAnswerBytes?: number;
}

const HEADERS_KEPT = ['content-type', 'retry-after', 'location'] as const;

/** The vendor API: `fetch` makes one request and returns the answer; `read` turns an answer into a page or a domain error. */
export class VendorClient {
  private readonly http: KyInstance;
  private readonly origin: string;
  private readonly maxAnswerBytes: number;

  constructor(private readonly opts: VendorClientOptions) {
    if (isInsecureVendorUrl(opts.url) && !opts.allowInsecureHttp) {
      throw new ConfigError(
        `VENDOR_API_URL=${opts.url} is plain http to a host other than loopback: the API key would travel in clear. Use https, or set VENDOR_ALLOW_INSECURE_HTTP=true if this network is trusted.`,
      );
    }
    this.origin = new URL(opts.url).origin;
    this.maxAnswerBytes = opts.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
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
   * status, its body read up to `maxAnswerBytes` (truncated past it); throws
   * VendorUnavailableError only when no answer came (network, deadline).
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
        const { body, truncated } = await readBounded(res, this.maxAnswerBytes);
        const headers: Record<string, string> = {};
        for (const h of HEADERS_KEPT) {
          const v = res.headers.get(h);
          if (v !== null) headers[h] = v;
        }
        const fetchedAt = new Date().toISOString();
        return {
          request: req,
          status: res.status,
          headers,
          body,
          ...(truncated && { truncated }),
          fetchedAt,
        };
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

/** A network failure's reason without any URL (undici puts the cause's code in `cause`). */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  return err instanceof Error ? err.name : 'network error';
}
