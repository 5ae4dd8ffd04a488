/** The simulator's pagination (page_size, page_token, next_page_token); pageParams says what a token holds. */
import { createHash } from 'node:crypto';
import type { RecordKind } from '../vendor-api/schemas.js';
import type { ApiPath, JsonRecord, ListAnswer, PlainAnswer } from './answers.js';
import { error, shown } from './answers.js';

const MAX_PAGE_SIZE = 500;

/** The paging parameters of a request, read and checked. */
export interface PageRequest {
  size: number | undefined;
  token: string | undefined;
  after: number | null;
  hash: string;
}

function tokenHash(path: ApiPath, queryKey: string): string {
  return createHash('sha256').update(`${path}\n${queryKey}`).digest('base64url').slice(0, 16);
}

function token(hash: string, after: number | null): string {
  return Buffer.from(JSON.stringify({ a: after, q: hash })).toString('base64url');
}

/**
 * Reads page_size and page_token. A token is base64url JSON of the last id served
 * and a hash of the query's filters, so a token from another query is refused and
 * pages stay consistent when records are added between requests.
 */
export function pageParams(
  params: URLSearchParams,
  path: ApiPath,
  queryKey: string,
): PlainAnswer | PageRequest {
  const hash = tokenHash(path, queryKey);
  const sizeRaw = params.get('page_size');
  let size: number | undefined;
  if (sizeRaw !== null) {
    size = /^\d{1,4}$/.test(sizeRaw) ? Number(sizeRaw) : Number.NaN;
    if (!(size >= 1 && size <= MAX_PAGE_SIZE)) {
      return error(400, `page_size must be an integer in 1..${MAX_PAGE_SIZE}, got ${shown(sizeRaw)}`);
    }
  }
  const sent = params.get('page_token') ?? undefined;
  let after: number | null = null;
  if (sent !== undefined) {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(sent, 'base64url').toString('utf8'));
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
      token(hash, decoded.a as number | null) === sent;
    if (!ok) {
      return error(
        400,
        'page_token does not belong to this query (or is damaged); repeat the query without page_token to start over',
      );
    }
    after = (decoded as { a: number | null }).a;
  }
  return { size, token: sent, after, hash };
}

/** The list answer for `records`: all of them without paging parameters, else the requested page. */
export function paginate(
  path: ApiPath,
  query: string,
  paged: PageRequest,
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
  const nextToken = rest.length > page.length && last ? token(paged.hash, last.id) : null;
  return {
    ...base,
    records: page,
    paging: { sentToken: paged.token, firstToken: token(paged.hash, null), nextToken },
  };
}
