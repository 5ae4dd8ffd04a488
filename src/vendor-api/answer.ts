/**
 * What the vendor is asked and what it answered, as plain data: the client (client.ts) makes
 * the requests, the landing zone keeps the answers, and read-answer.ts turns an answer into a
 * page. Nothing here holds a secret: the API key travels in a header.
 */

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
  /** The body's bytes exactly as received (after the Content-Encoding is undone). */
  body: Uint8Array;
  /**
   * The body went past VENDOR_MAX_ANSWER_BYTES: `body` holds its first bytes, up to the limit,
   * and the request was aborted there. Such an answer is kept (landed) but never used.
   */
  truncated?: true;
  /** When the answer was complete (ISO). */
  fetchedAt: string;
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

function vendorRequest(path: VendorPath, params: Params): VendorRequest {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) kept[k] = String(v);
  return { path, params: kept };
}

function pageParams(page: PageParams): Params {
  return { page_size: page.pageSize, page_token: page.pageToken ?? undefined };
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

/** Path and query as a string; the API key travels in a header and so never appears here. */
function describe(path: string, params: Params): string {
  const q = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');
  return q ? `${path}?${q}` : path;
}
