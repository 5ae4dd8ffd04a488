/**
 * Turns one vendor answer (as received or as landed) into a page, or into the domain error
 * that carries the retry decision. Bodies that cannot be used go to the quarantine table
 * (VendorBadBodyError carries them there); failure messages name the request, never the body.
 */
import type { z } from 'zod';
import { JsonSyntaxError, ownParseProblem, parseExactJson } from '../shared/exact-json.js';
import {
  VendorAnswerTooLargeError,
  VendorBadBodyError,
  VendorHttpError,
  VendorRateLimitedError,
} from '../shared/errors.js';
import { type DecodedBody, decodeUtf8Escaped, showUndecoded } from '../shared/utf8.js';
import { type VendorAnswer, type VendorPage, type VendorRequest, describeRequest } from './answer.js';
import { branchesEnvelope, employeesEnvelope, idKey, salesEnvelope } from './schemas.js';

/** Redirects followed within the vendor's own origin before a request is given up. */
export const MAX_REDIRECTS = 3;

/** Characters of a body kept for the quarantine table (it keeps 16,000; the landing zone keeps all). */
const BODY_SHOWN = 20_000;

/** Parses a Retry-After header: seconds (integer or fractional) or an HTTP date. Undefined when absent or unreadable. */
function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const secs = Number(header.trim());
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Where a Location header points from `from`, or undefined when it is absent or unreadable. */
export function locationOf(location: string | undefined, from: URL | string): URL | undefined {
  try {
    return location ? new URL(location, from) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns an answer into a page, or into the domain error that carries the retry decision:
 * 429 -> VendorRateLimitedError, other non-200 -> VendorHttpError, a 200 cut at the size
 * limit -> VendorAnswerTooLargeError, a 200 whose body is not the path's envelope (or answers
 * about another id than the one asked) -> VendorBadBodyError. A 3xx is judged against `origin`.
 */
export function readAnswer(answer: VendorAnswer, origin: string): VendorPage {
  const { request: req, status } = answer;
  const request = describeRequest(req);
  if (status === 200) {
    if (answer.truncated) throw tooLarge(answer, request);
    return readPage(req, decodeUtf8Escaped(answer.body));
  }
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
  const size = `${answer.truncated ? 'more than ' : ''}${answer.body.length} bytes`;
  throw new VendorHttpError(
    `vendor answered ${status} on ${request} (${size} of body, not kept in this message)`,
    status,
    request,
  );
}

/** A 200 cut at VENDOR_MAX_ANSWER_BYTES: it is set aside (its start) and never read as a page. */
function tooLarge(answer: VendorAnswer, request: string): VendorAnswerTooLargeError {
  const bytes = answer.body.length;
  return new VendorAnswerTooLargeError(
    `vendor answered 200 on ${request} with more than ${bytes} bytes (after decompression), the limit VENDOR_MAX_ANSWER_BYTES=${bytes} sets: the request was aborted there, the answer landed as far as it was read (truncated) and was not used. Asking again gets the same answer; raise VENDOR_MAX_ANSWER_BYTES (or lower VENDOR_PAGE_SIZE) if pages this large are expected`,
    request,
    bytes,
    showUndecoded(decodeUtf8Escaped(answer.body.subarray(0, BODY_SHOWN)).text),
  );
}

/** A body as text, and how to show it in the quarantine table. */
interface Body {
  decoded: DecodedBody;
  request: string;
}

/** The body's text for the quarantine table: each byte that was not UTF-8 written as `\xHH`. */
function shown(body: Body): string {
  const { text, invalidBytes } = body.decoded;
  return invalidBytes === 0 ? text : showUndecoded(text.slice(0, BODY_SHOWN));
}

/** A 200's body read as the path's envelope. */
function readPage(req: VendorRequest, decoded: DecodedBody): VendorPage {
  const body: Body = { decoded, request: describeRequest(req) };
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
function checkEnvelopeId(body: Body, field: string, got: Parameters<typeof idKey>[0], asked: string): void {
  if (idKey(got) !== asked) {
    throw new VendorBadBodyError(
      `vendor answered ${body.request} with result.${field} ${idKey(got)} instead of ${asked}; the body was set aside`,
      body.request,
      shown(body),
    );
  }
}

/** The JSON of a body; a body that is not JSON (or not UTF-8 outside its strings) is set aside. */
function parseBody(body: Body): unknown {
  const { text, invalidBytes, firstInvalidAt } = body.decoded;
  try {
    return parseExactJson(text, { undecodedBytes: invalidBytes > 0 });
  } catch (cause) {
    const where = cause instanceof JsonSyntaxError ? ` (${cause.message})` : '';
    const notUtf8 =
      invalidBytes > 0
        ? ` and is not UTF-8 (${invalidBytes} bytes that are not, the first at byte ${firstInvalidAt}; the body is landed as received)`
        : '';
    throw new VendorBadBodyError(
      `vendor answered 200 on ${body.request} with a body that is not JSON${where}${notUtf8}; the body was set aside`,
      body.request,
      shown(body),
      { cause },
    );
  }
}

function page<S extends z.ZodType>(
  req: VendorRequest,
  body: Body,
  envelope: S,
  records: (r: z.infer<S>) => unknown[],
): VendorPage {
  const path = req.path;
  const json = parseBody(body);
  // A duplicate key in the envelope (two `employee_id`s, two `sales` lists), or a string of it
  // that is not UTF-8 (a page token): which one is meant?
  const envelopeProblem =
    ownParseProblem(json) ?? ownParseProblem((json as { result?: unknown } | null)?.result);
  if (envelopeProblem) {
    throw new VendorBadBodyError(
      `vendor answered 200 on ${body.request} with an ambiguous ${path} envelope (${envelopeProblem}); the body was set aside`,
      body.request,
      shown(body),
    );
  }
  const parsed = envelope.safeParse(json);
  if (!parsed.success) {
    throw new VendorBadBodyError(
      `vendor answered 200 on ${body.request} with JSON that is not the ${path} envelope (${parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ')}); the body was set aside`,
      body.request,
      shown(body),
    );
  }
  const data = parsed.data as z.infer<S> & { next_page_token?: string | null };
  return {
    records: records(data),
    nextPageToken: data.next_page_token ?? null,
    request: body.request,
  };
}
