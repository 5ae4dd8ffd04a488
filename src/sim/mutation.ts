/**
 * Seeded changes to the simulator's data (new and corrected sales, transfers, departures,
 * branch changes, and the history moves of history-moves.ts: voids, reappearances, late
 * sales, old corrections) and the report of exactly what changed, so that a test can predict
 * what a sync must write. Dataset.mutate is the way in.
 */
import {
  HISTORY_MOVES,
  type HistoryMoveOptions,
  type HistoryMoveReport,
  moveHistory,
} from './history-moves.js';
import type { DatasetView, EmployeeRecord } from './records.js';
import { appendSale, correctSale, drawSale, listedSalespersons } from './new-sale.js';
import { Prng } from './prng.js';
import { HOUR_MS, PRODUCTS, STREETS, byId, checkInt, extraValue, stripUndefined } from './vocabulary.js';

/**
 * Counts of each change `Dataset.mutate` applies: the older ones default to 1, the history
 * moves (HistoryMoveOptions: voids, reappearances, lateSales, oldCorrections) to 0.
 */
export interface MutationOptions extends HistoryMoveOptions {
  /** Seed of this mutation's choices. Default: derived from the dataset seed and the mutation number. */
  seed: number;
  /** Epoch ms; new sales get timestamps in [now - 1 h, now). Default: Date.now(). */
  now: number;
  /** Sales added to salespersons who are under at least one branch. */
  newSales: number;
  /** Existing sales whose amount and quantity change (same id). */
  correctedSales: number;
  /** Salespersons added to another branch. */
  transfers: number;
  /** (employee, branch) memberships removed; the employee's sales stay reachable under /sales. */
  departures: number;
  /** Branches whose location or one extra field changes. */
  branchChanges: number;
  /** A transferred salesperson stays listed under the old branch too ("for a while, under both"). Default true. */
  keepUnderOld: boolean;
}

/** A sale that a mutation added or corrected. */
export interface SaleChange {
  saleId: number;
  employeeId: number;
}

/** A salesperson a mutation added to `toBranchId` (and removed from `fromBranchId` unless keepUnderOld). */
export interface TransferChange {
  employeeId: number;
  fromBranchId: number;
  toBranchId: number;
  /** Whether the employee is still listed under `fromBranchId`. */
  keptUnderOld: boolean;
}

/** An employee a mutation removed from one branch's list. */
export interface DepartureChange {
  employeeId: number;
  branchId: number;
}

/** A branch record whose fields changed, with the names of the changed fields. */
export interface BranchChange {
  branchId: number;
  /** Changed field names, sorted: "location", "extra_N", and "employees" when the head count changed. */
  fields: string[];
}

/**
 * Exactly what one mutation changed. Every other record is left deep-equal:
 * - `newSales`: sale ids that did not exist before (appended to that salesperson's list);
 * - `correctedSales`: existing sale ids whose amount and quantity changed (nothing else);
 * - `transfers`: employee records added under `toBranchId` (a copy of the record under
 *   `fromBranchId`), and removed from `fromBranchId` when `keptUnderOld` is false;
 * - `departures`: employee records removed from `branchId`;
 * - `branchChanges`: every branch record that differs, once each, sorted by id. This
 *   includes branches whose only change is the `employees` head count, which is kept
 *   equal to the length of the branch's employee list after transfers and departures;
 * - the history moves (HistoryMoveReport): voids, reappearances, lateSales, oldCorrections.
 * A sale is in at most one list.
 */
export interface MutationReport extends HistoryMoveReport {
  seed: number;
  now: number;
  newSales: SaleChange[];
  correctedSales: SaleChange[];
  transfers: TransferChange[];
  departures: DepartureChange[];
  branchChanges: BranchChange[];
}

/** What every step of one mutation works on. */
interface Mutation {
  data: DatasetView;
  opts: MutationOptions;
  prng: Prng;
  report: MutationReport;
  /** Branch id -> the names of its fields changed so far. */
  changedFields: Map<number, Set<string>>;
}

/**
 * Applies seeded random changes to `data` and returns exactly what changed, with the next
 * free sale id (see Dataset.mutate). `defaultSeed` is the seed when `options` names none.
 * The steps draw from one seeded generator in a fixed order: reordering them changes the data.
 */
export function mutateDataset(
  data: DatasetView,
  options: Partial<MutationOptions>,
  defaultSeed: number,
  firstSaleId: number,
): { report: MutationReport; nextSaleId: number } {
  const opts = mutationOptions(options, defaultSeed);
  const m: Mutation = {
    data,
    opts,
    prng: new Prng(opts.seed, 2),
    report: {
      seed: opts.seed,
      now: opts.now,
      newSales: [],
      correctedSales: [],
      transfers: [],
      departures: [],
      branchChanges: [],
      voids: [],
      reappearances: [],
      lateSales: [],
      oldCorrections: [],
    },
    changedFields: new Map(),
  };
  // Transfers first, so that departures can exclude the salespersons just moved (one change per employee keeps the report unambiguous).
  const moved = transfer(m);
  depart(m, moved);
  // Corrections pick among sales that existed before this mutation, so a sale is never both new and corrected.
  correctSales(m);
  const afterNew = addSales(m, firstSaleId);
  changeBranches(m);
  countEmployees(m);
  m.report.branchChanges = [...m.changedFields.entries()]
    .sort(([a], [b]) => a - b)
    .map(([branchId, fields]) => ({ branchId, fields: [...fields].sort() }));
  const touched = new Set([...m.report.newSales, ...m.report.correctedSales].map((c) => c.saleId));
  const history = moveHistory(data, { options: opts, touched, firstSaleId: afterNew });
  Object.assign(m.report, history.report);
  return { report: m.report, nextSaleId: history.nextSaleId };
}

/** The options with their defaults, checked. */
function mutationOptions(options: Partial<MutationOptions>, defaultSeed: number): MutationOptions {
  const opts: MutationOptions = {
    seed: defaultSeed,
    now: Date.now(),
    newSales: 1,
    correctedSales: 1,
    transfers: 1,
    departures: 1,
    branchChanges: 1,
    keepUnderOld: true,
    voids: 0,
    reappearances: 0,
    lateSales: 0,
    oldCorrections: 0,
    ...stripUndefined(options),
  };
  const counts = ['newSales', 'correctedSales', 'transfers', 'departures', 'branchChanges'] as const;
  for (const key of [...counts, ...HISTORY_MOVES]) {
    checkInt(key, opts[key], 0);
  }
  checkInt('now', opts.now, 0);
  return opts;
}

function markBranch(m: Mutation, branchId: number, field: string): void {
  const set = m.changedFields.get(branchId) ?? new Set<string>();
  set.add(field);
  m.changedFields.set(branchId, set);
}

function listOf(data: DatasetView, branchId: number): EmployeeRecord[] {
  const list = data.employeesByBranch.get(branchId);
  if (!list) throw new Error(`internal: branch ${branchId} has no employee list`);
  return list;
}

/** Salespersons listed under another branch (and off the old one unless keepUnderOld); returns their ids. */
function transfer({ data, opts, prng, report }: Mutation): Set<number> {
  const branchIds = data.branches.map((b) => b.id);
  const movable = [...data.salesBySalesperson.keys()]
    .map((id) => ({ id, under: data.branchesOf(id) }))
    .filter((c) => c.under.length > 0 && c.under.length < branchIds.length);
  const touched = new Set<number>();
  for (const candidate of prng.sample(movable, opts.transfers)) {
    const fromBranchId = prng.pick(candidate.under);
    const toBranchId = prng.pick(branchIds.filter((id) => !candidate.under.includes(id)));
    const fromList = listOf(data, fromBranchId);
    const record = fromList.find((e) => e.id === candidate.id);
    if (!record) throw new Error(`internal: employee ${candidate.id} not under branch ${fromBranchId}`);
    const toList = listOf(data, toBranchId);
    toList.push(structuredClone(record));
    toList.sort(byId);
    forgetFormer(data, toBranchId, candidate.id);
    if (!opts.keepUnderOld) {
      fromList.splice(fromList.indexOf(record), 1);
      rememberFormer(data, fromBranchId, record);
    }
    touched.add(candidate.id);
    report.transfers.push({
      employeeId: candidate.id,
      fromBranchId,
      toBranchId,
      keptUnderOld: opts.keepUnderOld,
    });
  }
  return touched;
}

/** Memberships removed, at most one per employee and none of an employee just transferred. */
function depart({ data, opts, prng, report }: Mutation, touched: Set<number>): void {
  const memberships: DepartureChange[] = [];
  for (const [branchId, employees] of data.employeesByBranch) {
    for (const e of employees) if (!touched.has(e.id)) memberships.push({ employeeId: e.id, branchId });
  }
  const departing: DepartureChange[] = [];
  const departingEmployees = new Set<number>();
  for (const m of prng.sample(memberships, memberships.length)) {
    if (departing.length >= opts.departures) break;
    if (departingEmployees.has(m.employeeId)) continue;
    departing.push(m);
    departingEmployees.add(m.employeeId);
  }
  for (const d of departing) {
    const list = listOf(data, d.branchId);
    const [record] = list.splice(
      list.findIndex((e) => e.id === d.employeeId),
      1,
    );
    if (record) rememberFormer(data, d.branchId, record);
    report.departures.push(d);
  }
}

/** Keeps a record a branch stopped listing, so that "every membership ever listed" can be told. */
function rememberFormer(data: DatasetView, branchId: number, record: EmployeeRecord): void {
  const former = (data.formerMembers.get(branchId) ?? []).filter((e) => e.id !== record.id);
  former.push(record);
  data.formerMembers.set(branchId, former.sort(byId));
}

/** A branch lists the employee again: no longer a former member there. */
function forgetFormer(data: DatasetView, branchId: number, employeeId: number): void {
  const former = data.formerMembers.get(branchId);
  if (!former?.some((e) => e.id === employeeId)) return;
  const rest = former.filter((e) => e.id !== employeeId);
  if (rest.length > 0) data.formerMembers.set(branchId, rest);
  else data.formerMembers.delete(branchId);
}

/** Existing sales whose quantity and amount grow (same id). */
function correctSales({ data, opts, prng, report }: Mutation): void {
  const existing = data.allSales();
  const ownerOf = new Map<number, number>();
  for (const [employeeId, sales] of data.salesBySalesperson)
    for (const s of sales) ownerOf.set(s.id, employeeId);
  for (const sale of prng.sample(existing, opts.correctedSales)) {
    correctSale(prng, sale);
    report.correctedSales.push({ saleId: sale.id, employeeId: ownerOf.get(sale.id) ?? -1 });
  }
}

/** New sales of listed salespersons in the hour before `now`; returns the next free sale id. */
function addSales({ data, opts, prng, report }: Mutation, firstSaleId: number): number {
  let nextSaleId = firstSaleId;
  const listed = listedSalespersons(data);
  const lowS = Math.ceil((opts.now - HOUR_MS) / 1000);
  const highS = Math.ceil(opts.now / 1000) - 1;
  for (let n = 0; n < opts.newSales && listed.length > 0; n++) {
    const employeeId = prng.pick(listed);
    const product = prng.pick(PRODUCTS);
    const quantity = prng.int(1, 40);
    const saleId = nextSaleId;
    nextSaleId += prng.int(1, 4);
    const sale = drawSale(
      prng,
      saleId,
      product,
      quantity,
      { fromS: lowS, toS: highS },
      data.options.extraFields,
    );
    appendSale(data, employeeId, sale);
    report.newSales.push({ saleId, employeeId });
  }
  return nextSaleId;
}

/** Branches whose location or one extra field changes to a different value. */
function changeBranches(m: Mutation): void {
  const { prng } = m;
  for (const branch of prng.sample(m.data.branches, m.opts.branchChanges)) {
    const extraKeys = Object.keys(branch).filter((k) => k.startsWith('extra_'));
    if (extraKeys.length > 0 && prng.chance(0.5)) {
      const key = prng.pick(extraKeys);
      let value = extraValue(prng);
      while (value === branch[key]) value = extraValue(prng);
      branch[key] = value;
      markBranch(m, branch.id, key);
    } else {
      const city = branch.location.split(', ').slice(-2).join(', ');
      let location = `${prng.int(1, 9999)} ${prng.pick(STREETS)}, ${city}`;
      while (location === branch.location) location = `${prng.int(1, 9999)} ${prng.pick(STREETS)}, ${city}`;
      branch.location = location;
      markBranch(m, branch.id, 'location');
    }
  }
}

/** Each branch's `employees` head count follows its list after transfers and departures. */
function countEmployees(m: Mutation): void {
  for (const branch of m.data.branches) {
    const count = listOf(m.data, branch.id).length;
    if (branch.employees !== count) {
      branch.employees = count;
      markBranch(m, branch.id, 'employees');
    }
  }
}
