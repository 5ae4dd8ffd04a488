/**
 * What a sync of the simulator's data must produce, computed from the dataset alone: the
 * records each table must hold, and the fewest vendor requests a run needs. The tests and
 * the benchmark both judge the pipeline with these functions (test/helpers/truth.ts,
 * scripts/bench.ts), so "what the tables should hold" and "how many requests a run
 * needs" are written once, next to the data that decides them.
 */
import { formatVendorTimestamp } from '../vendor-api/schemas.js';
import { SYNCED_TABLES, type SyncedTable } from '../shared/tables.js';
import type { BranchRecord, Dataset, EmployeeRecord, SaleRecord } from './dataset.js';
import { SALESPERSON } from './vocabulary.js';

/** The three tables the pipeline fills from the vendor (SYNCED_TABLES). */
export type TableName = SyncedTable;
/** The tables a sync must fill, in the order it fills them. */
export const TABLES: readonly TableName[] = SYNCED_TABLES;

/** A window of sales, as ISO instants: [from, to). */
export interface SalesWindow {
  from: string;
  to: string;
}

/**
 * One record a table must hold: its table, its key (the key attributes joined with `|`, as
 * `itemKey` reads them from a stored item) and the vendor's record as served (a voided sale:
 * as it was last served). `voided`: a sale the vendor no longer lists; `departed`: a
 * membership the branch no longer lists (both only with `include: 'ever'`).
 */
export type ExpectedRecord =
  | { table: 'branches'; key: string; record: BranchRecord; branchId: number }
  | { table: 'salespersons'; key: string; record: EmployeeRecord; branchId: number; departed?: true }
  | {
      table: 'sales';
      key: string;
      record: SaleRecord;
      branchId: number;
      employeeId: number;
      voided?: true;
    };

/**
 * Which records a sync must have stored:
 * - `listed` (the default): exactly what the vendor lists now;
 * - `ever`: also what it listed before and no longer does, as a pipeline that synced every
 *   change keeps it: voided sales (in the window; with `voided_at`) and memberships that
 *   departed (with `left_at`), with the departed salesperson's sales.
 */
export interface ExpectOptions {
  include?: 'listed' | 'ever';
}

/** Stands for "an ISO instant" in an expected item: the `voided_at` of a voided sale, the `left_at` of a departed membership. */
export const ANY_INSTANT = '<an ISO instant>';

/**
 * True when a sale falls in the window as the vendor filters it: the window's bounds are
 * sent as vendor timestamps (seconds precision), `from` inclusive, `to` exclusive.
 */
export function saleInWindow(sale: SaleRecord, window: SalesWindow | undefined): boolean {
  if (!window) return true;
  const from = formatVendorTimestamp(Date.parse(window.from));
  const to = formatVendorTimestamp(Date.parse(window.to));
  return sale.transaction_timestamp >= from && sale.transaction_timestamp < to;
}

/**
 * Every record a sync of `branchNames` must store (sales in the window when given): each
 * known branch, its salespersons (keyed with the branch they are listed under) and their
 * sales. Unknown names are skipped, as the pipeline does. `options.include` (ExpectOptions):
 * what is listed now (default), or every record ever listed.
 */
export function* expectedRecords(
  ds: Dataset,
  branchNames: readonly string[],
  window?: SalesWindow,
  options: ExpectOptions = {},
): Generator<ExpectedRecord> {
  const ever = options.include === 'ever';
  for (const name of branchNames) {
    const branch = ds.branchByName(name);
    if (!branch) continue;
    yield { table: 'branches', key: String(branch.id), record: branch, branchId: branch.id };
    const members = ds.salespersonsOf(branch.id);
    const former = ever
      ? (ds.formerMembers.get(branch.id) ?? []).filter(
          (e) => e.occupation === SALESPERSON && !members.some((m) => m.id === e.id),
        )
      : [];
    for (const sp of [...members, ...former]) {
      const departed = former.includes(sp);
      yield {
        table: 'salespersons',
        key: `${sp.id}|${branch.id}`,
        record: sp,
        branchId: branch.id,
        ...(departed ? { departed: true as const } : {}),
      };
      yield* salesRecords(ds, sp.id, branch.id, window, ever);
    }
  }
}

/** A salesperson's sales in the window, reached through `branchId`; with `ever`, the voided ones too. */
function* salesRecords(
  ds: Dataset,
  employeeId: number,
  branchId: number,
  window: SalesWindow | undefined,
  ever: boolean,
): Generator<ExpectedRecord> {
  const listed = ds.salesBySalesperson.get(employeeId) ?? [];
  const voided = ever ? (ds.voidedSales.get(employeeId) ?? []) : [];
  for (const sale of [...listed, ...voided]) {
    if (!saleInWindow(sale, window)) continue;
    yield {
      table: 'sales',
      key: `${sale.id}|${employeeId}`,
      record: sale,
      branchId,
      employeeId,
      ...(voided.includes(sale) ? { voided: true as const } : {}),
    };
  }
}

/** Expected items per table, by key: the vendor's fields plus the key attributes as strings. */
export type ExpectedTables = Record<TableName, Map<string, Record<string, unknown>>>;

/**
 * The items the tables must hold after a sync of `branchNames` (sales in [from, to) when a
 * window is given), without the attributes the pipeline adds (content hash, provenance)
 * and without a sale's `branch_id` (the branch it was reached through). With
 * `include: 'ever'` a voided sale carries `voided_at` and a departed membership `left_at`,
 * both ANY_INSTANT.
 */
export function expectedTables(
  ds: Dataset,
  branchNames: readonly string[],
  window?: SalesWindow,
  options: ExpectOptions = {},
): ExpectedTables {
  const tables: ExpectedTables = { branches: new Map(), salespersons: new Map(), sales: new Map() };
  for (const e of expectedRecords(ds, branchNames, window, options)) {
    const keyFields =
      e.table === 'branches'
        ? { branch_id: String(e.record.id) }
        : e.table === 'salespersons'
          ? {
              employee_id: String(e.record.id),
              branch_id: String(e.branchId),
              ...(e.departed ? { left_at: ANY_INSTANT } : {}),
            }
          : {
              sale_id: String(e.record.id),
              employee_id: String(e.employeeId),
              ...(e.voided ? { voided_at: ANY_INSTANT } : {}),
            };
    tables[e.table].set(e.key, { ...e.record, ...keyFields });
  }
  return tables;
}

/** The key of a stored item of `table`, in the form `expectedRecords` gives. */
export function itemKey(table: TableName, item: Record<string, unknown>): string {
  if (table === 'branches') return String(item.branch_id);
  if (table === 'salespersons') return `${String(item.employee_id)}|${String(item.branch_id)}`;
  return `${String(item.sale_id)}|${String(item.employee_id)}`;
}

/** The fewest vendor requests a sync of a list of branch names needs when nothing fails. */
export interface RequestsNeeded {
  /** One lookup per name asked for (an unknown name is looked up too). */
  branchLookups: number;
  /** Every page of every known branch's employee list. */
  employeePages: number;
  /** Every page of every distinct salesperson's sales (a salesperson listed under two branches is fetched once). */
  salesPages: number;
  total: number;
  /** Sales pages if every (branch, salesperson) listing fetched its own sales. */
  salesPagesPerListing: number;
  salespersonListings: number;
  uniqueSalespersons: number;
}

/**
 * The requests a sync of `branchNames` at `pageSize` needs (sales in the window when given):
 * one branch lookup per name and every page of every list once; an empty list is one page.
 */
export function requestsNeeded(
  ds: Dataset,
  branchNames: readonly string[],
  pageSize: number,
  window?: SalesWindow,
): RequestsNeeded {
  const pages = (n: number) => Math.max(1, Math.ceil(n / pageSize));
  const salesPagesOf = (employeeId: number) =>
    pages((ds.salesBySalesperson.get(employeeId) ?? []).filter((s) => saleInWindow(s, window)).length);
  let employeePages = 0;
  let salesPagesPerListing = 0;
  let listings = 0;
  const unique = new Set<number>();
  for (const name of branchNames) {
    const branch = ds.branchByName(name);
    if (!branch) continue;
    employeePages += pages(ds.employeesByBranch.get(branch.id)?.length ?? 0);
    for (const sp of ds.salespersonsOf(branch.id)) {
      listings++;
      unique.add(sp.id);
      salesPagesPerListing += salesPagesOf(sp.id);
    }
  }
  let salesPages = 0;
  for (const id of unique) salesPages += salesPagesOf(id);
  const branchLookups = branchNames.length;
  return {
    branchLookups,
    employeePages,
    salesPages,
    total: branchLookups + employeePages + salesPages,
    salesPagesPerListing,
    salespersonListings: listings,
    uniqueSalespersons: unique.size,
  };
}
