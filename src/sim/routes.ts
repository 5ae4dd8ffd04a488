/**
 * The simulator's three API paths: reads a request's parameters, checks them, and picks
 * the records to answer with from the dataset (before paging's and faults' effects on the body).
 */
import { parseVendorTimestamp } from '../vendor-api/schemas.js';
import type { RecordKind } from '../vendor-api/schemas.js';
import type { Answer, ApiPath, JsonRecord, ListAnswer } from './answers.js';
import { error, shown } from './answers.js';
import type { Dataset } from './dataset.js';
import { pageParams, paginate } from './paging.js';

/** Parses an id parameter: an integer, or undefined when it is not one. */
function parseId(raw: string): number | undefined {
  if (!/^-?\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

/** Routes an authenticated, admitted GET to its path. */
export function route(dataset: Dataset, url: URL): Answer {
  const params = url.searchParams;
  switch (url.pathname) {
    case '/branches':
      return branches(dataset, params, url.search);
    case '/employees':
      return employees(dataset, params, url.search);
    case '/sales':
      return sales(dataset, params, url.search);
    default:
      return error(404, `unknown path ${shown(url.pathname)}; expected /branches, /employees or /sales`);
  }
}

function branches(dataset: Dataset, params: URLSearchParams, query: string): Answer {
  const name = params.get('branch');
  const all = dataset.branches as JsonRecord[];
  const records = name === null ? all : all.filter((b) => b.branch_name === name);
  return list('/branches', query, params, name === null ? 'all' : `name=${name}`, 'branch', records, (r) => ({
    result: r,
  }));
}

function employees(dataset: Dataset, params: URLSearchParams, query: string): Answer {
  const raw = params.get('branchID');
  if (raw === null) return error(400, 'branchID is required: /employees?branchID=<integer>');
  const branchId = parseId(raw);
  if (branchId === undefined) return error(400, `branchID must be an integer, got ${shown(raw)}`);
  const records = dataset.employeesByBranch.get(branchId);
  const paged = pageParams(params, '/employees', `branchID=${branchId}`);
  if ('kind' in paged) return paged;
  if (!records) return error(404, `no branch with id ${branchId}`);
  return paginate('/employees', query, paged, 'employee', records, (r) => ({
    result: { branch_id: branchId, employees: r },
  }));
}

function sales(dataset: Dataset, params: URLSearchParams, query: string): Answer {
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
  const paged = pageParams(
    params,
    '/sales',
    `salespersonsID=${employeeId}&from=${params.get('from') ?? ''}&to=${params.get('to') ?? ''}`,
  );
  if ('kind' in paged) return paged;
  const all = dataset.salesBySalesperson.get(employeeId);
  if (!all) return error(404, `no salesperson with id ${employeeId}`);
  const { from, to } = bounds;
  const records = all.filter((s) => {
    const ms = parseVendorTimestamp(s.transaction_timestamp) ?? Number.NaN;
    return (from === undefined || ms >= from) && (to === undefined || ms < to);
  });
  return paginate('/sales', query, paged, 'sale', records, (r) => ({
    result: { employee_id: employeeId, sales: r },
  }));
}

function list(
  path: ApiPath,
  query: string,
  params: URLSearchParams,
  queryKey: string,
  recordKind: RecordKind,
  records: JsonRecord[],
  wrap: ListAnswer['wrap'],
): Answer {
  const paged = pageParams(params, path, queryKey);
  if ('kind' in paged) return paged;
  return paginate(path, query, paged, recordKind, records, wrap);
}
