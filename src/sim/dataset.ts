/**
 * The simulator's data: branches, their employees and the salespersons' sales,
 * generated deterministically from a seed, and changed by seeded mutations that report
 * exactly what they changed (so a test can predict what a sync must write).
 */
import { formatVendorTimestamp } from '../vendor-api/schemas.js';
import { Prng } from './prng.js';

/**
 * The records the simulator serves: the contract's fields as plain JSON (ids are safe
 * integers here; the client also takes larger ones). The simulator's tests check them
 * against the client's schemas (src/vendor-api/schemas.ts).
 */
export interface BranchRecord {
  [field: string]: unknown;
  id: number;
  branch_name: string;
  employees: number;
  location: string;
}
export interface EmployeeRecord {
  [field: string]: unknown;
  id: number;
  occupation: string;
  name: string;
}
export interface SaleRecord {
  [field: string]: unknown;
  id: number;
  transaction_timestamp: string;
  amount: string;
  product: string;
  quantity: number;
  customer: string;
}
import { DEFAULT_BRANCHES } from '../shared/branches.js';

/** The first branch names, in this order: the 13 branches the original pipeline synced. */
export const BRANCH_NAMES: readonly string[] = DEFAULT_BRANCHES;

const BRANCH_STATES: readonly string[] = [
  'PA',
  'OH',
  'NY',
  'NY',
  'NY',
  'NY',
  'NY',
  'NY',
  'NH',
  'MA',
  'CT',
  'NY',
  'NY',
];

/** The occupation that makes an employee a salesperson (the contract compares it exactly). */
export const SALESPERSON = 'salesperson';

const OTHER_OCCUPATIONS: readonly string[] = [
  'accountant',
  'data engineer',
  'receptionist',
  'warehouse',
  'customer service',
  'quality assurance',
  'human resources',
  'supplier relations',
];

const FIRST_NAMES: readonly string[] = [
  'Michael',
  'Dwight',
  'Jim',
  'Pam',
  'Ryan',
  'Andy',
  'Angela',
  'Kevin',
  'Oscar',
  'Stanley',
  'Phyllis',
  'Meredith',
  'Creed',
  'Kelly',
  'Toby',
  'Darryl',
  'Erin',
  'Gabe',
  'Holly',
  'Karen',
];

const LAST_NAMES: readonly string[] = [
  'Scott',
  'Schrute',
  'Halpert',
  'Beesly',
  'Howard',
  'Bernard',
  'Martin',
  'Malone',
  'Martinez',
  'Hudson',
  'Vance',
  'Palmer',
  'Bratton',
  'Kapoor',
  'Flenderson',
  'Philbin',
  'Hannon',
  'Lewis',
  'Flax',
  'Filippelli',
];

/** Product name and unit price in cents. */
const PRODUCTS: readonly (readonly [string, number])[] = [
  ['copy paper A4', 1499],
  ['copy paper letter', 1399],
  ['cardstock', 2250],
  ['envelopes #10', 899],
  ['legal pads', 1200],
  ['sticky notes', 650],
  ['toner cartridge', 7990],
  ['printer paper ream', 549],
];

const CUSTOMERS: readonly string[] = [
  'Blue Cross',
  'Lackawanna County',
  'Harper Collins',
  'Apex Technology',
  'Dunmore High School',
  'Vance Refrigeration',
  'Stone & Sons',
  'Prince Family Paper',
  'Scranton White Pages',
  'Hammermill',
];

const STREETS: readonly string[] = [
  'Slough Ave',
  'Main St',
  'Elm St',
  'Commerce Blvd',
  'Lake Rd',
  'Park Ave',
];

const HOUR_MS = 3_600_000;

/** What the generated data looks like; every field has a default (see DEFAULT_DATASET_OPTIONS). */
export interface DatasetOptions {
  /** Seed of the data generator: the same seed and options give deep-equal data. */
  seed: number;
  /** Number of branches; the first 13 carry BRANCH_NAMES, the next ones "Branch 14", "Branch 15", … */
  branches: number;
  /** Employees generated per branch (the branch's initial head count). */
  employeesPerBranch: number;
  /** Share (0..1) of each branch's employees whose occupation is "salesperson", rounded. */
  salespersonShare: number;
  /** Sales generated per salesperson. */
  salesPerSalesperson: number;
  /** Number of extra string fields `extra_1..extra_n` on every record (clients must keep all fields). */
  extraFields: number;
  /** Epoch ms: generated sales lie in [anchorTime - salesSpanHours h, anchorTime). Default: the current hour start. */
  anchorTime: number;
  /** Width of the generated sales window in hours. */
  salesSpanHours: number;
}

/** Defaults of DatasetOptions; `anchorTime` is filled in at generation time (the current hour start). */
export const DEFAULT_DATASET_OPTIONS: Readonly<Omit<DatasetOptions, 'anchorTime'>> = {
  seed: 1,
  branches: 13,
  employeesPerBranch: 12,
  salespersonShare: 0.5,
  salesPerSalesperson: 20,
  extraFields: 0,
  salesSpanHours: 20,
};

/** Counts of each change `Dataset.mutate` applies; every count defaults to 1. */
export interface MutationOptions {
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
 *   equal to the length of the branch's employee list after transfers and departures.
 */
export interface MutationReport {
  seed: number;
  now: number;
  newSales: SaleChange[];
  correctedSales: SaleChange[];
  transfers: TransferChange[];
  departures: DepartureChange[];
  branchChanges: BranchChange[];
}

function checkInt(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Fills in defaults and rejects out-of-range options with an error naming the option. */
export function resolveDatasetOptions(options: Partial<DatasetOptions> = {}): DatasetOptions {
  const given = stripUndefined(options);
  // Only the dataset's own keys are copied: callers pass whole simulator options, which hold api keys.
  const resolved: DatasetOptions = {
    seed: given.seed ?? DEFAULT_DATASET_OPTIONS.seed,
    branches: given.branches ?? DEFAULT_DATASET_OPTIONS.branches,
    employeesPerBranch: given.employeesPerBranch ?? DEFAULT_DATASET_OPTIONS.employeesPerBranch,
    salespersonShare: given.salespersonShare ?? DEFAULT_DATASET_OPTIONS.salespersonShare,
    salesPerSalesperson: given.salesPerSalesperson ?? DEFAULT_DATASET_OPTIONS.salesPerSalesperson,
    extraFields: given.extraFields ?? DEFAULT_DATASET_OPTIONS.extraFields,
    anchorTime: given.anchorTime ?? Math.floor(Date.now() / HOUR_MS) * HOUR_MS,
    salesSpanHours: given.salesSpanHours ?? DEFAULT_DATASET_OPTIONS.salesSpanHours,
  };
  checkInt('seed', resolved.seed, Number.MIN_SAFE_INTEGER);
  checkInt('branches', resolved.branches, 1);
  checkInt('employeesPerBranch', resolved.employeesPerBranch, 0);
  checkInt('salesPerSalesperson', resolved.salesPerSalesperson, 0);
  checkInt('extraFields', resolved.extraFields, 0);
  checkInt('anchorTime', resolved.anchorTime, 0);
  if (!(resolved.salespersonShare >= 0 && resolved.salespersonShare <= 1)) {
    throw new RangeError(
      `salespersonShare must be a number in 0..1, got ${String(resolved.salespersonShare)}`,
    );
  }
  if (!(resolved.salesSpanHours > 0 && Number.isFinite(resolved.salesSpanHours))) {
    throw new RangeError(`salesSpanHours must be a positive number, got ${String(resolved.salesSpanHours)}`);
  }
  return resolved;
}

/** Drops keys whose value is undefined so that they do not override defaults in a spread. */
export function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function parseCents(amount: string): number {
  return Math.round(Number(amount) * 100);
}

function extraValue(prng: Prng): string {
  return `x-${prng.int(0, 0xffffff).toString(16).padStart(6, '0')}`;
}

function byId(a: { id: number }, b: { id: number }): number {
  return a.id - b.id;
}

/**
 * The simulator's data. Lists are sorted by id. An employee listed under two branches
 * (a transfer kept "under both") is stored as two equal copies, one per branch.
 */
export class Dataset {
  /** The options the data was generated from (defaults filled in). */
  readonly options: DatasetOptions;
  /** All branches, sorted by id. */
  readonly branches: BranchRecord[];
  /** Employees per branch id, each list sorted by employee id. */
  readonly employeesByBranch: Map<number, EmployeeRecord[]>;
  /** Sales per salesperson id (every salesperson ever generated, listed or departed), sorted by sale id. */
  readonly salesBySalesperson: Map<number, SaleRecord[]>;
  #nextSaleId: number;
  #mutations: number;

  private constructor(
    options: DatasetOptions,
    branches: BranchRecord[],
    employeesByBranch: Map<number, EmployeeRecord[]>,
    salesBySalesperson: Map<number, SaleRecord[]>,
    nextSaleId: number,
    mutations: number,
  ) {
    this.options = options;
    this.branches = branches;
    this.employeesByBranch = employeesByBranch;
    this.salesBySalesperson = salesBySalesperson;
    this.#nextSaleId = nextSaleId;
    this.#mutations = mutations;
  }

  /** Generates the data for `options` (defaults filled in); deterministic for equal options. */
  static generate(options: Partial<DatasetOptions> = {}): Dataset {
    const opts = resolveDatasetOptions(options);
    const prng = new Prng(opts.seed, 1);
    const extras = (): Record<string, string> => {
      const fields: Record<string, string> = {};
      for (let k = 1; k <= opts.extraFields; k++) fields[`extra_${k}`] = extraValue(prng);
      return fields;
    };

    const branches: BranchRecord[] = [];
    const employeesByBranch = new Map<number, EmployeeRecord[]>();
    const salesBySalesperson = new Map<number, SaleRecord[]>();
    let nextEmployeeId = 1000;
    let nextSaleId = 100_000;
    const spanMs = opts.salesSpanHours * HOUR_MS;
    const spanStartS = Math.ceil((opts.anchorTime - spanMs) / 1000);
    const spanEndS = Math.ceil(opts.anchorTime / 1000) - 1;

    for (let i = 0; i < opts.branches; i++) {
      // Ids deliberately differ from list positions so that a client cannot confuse the two.
      const branchId = 100 + i * 7;
      const name = BRANCH_NAMES[i] ?? `Branch ${i + 1}`;
      const state = BRANCH_STATES[i] ?? 'PA';
      const salespersons = Math.round(opts.employeesPerBranch * opts.salespersonShare);
      const occupations: string[] = [];
      for (let e = 0; e < opts.employeesPerBranch; e++) {
        occupations.push(e < salespersons ? SALESPERSON : prng.pick(OTHER_OCCUPATIONS));
      }
      // Shuffle so that salespersons are not always the lowest ids of a branch.
      const shuffled = prng.sample(occupations, occupations.length);

      const employees: EmployeeRecord[] = [];
      for (const occupation of shuffled) {
        nextEmployeeId += prng.int(1, 3);
        const employee: EmployeeRecord = {
          id: nextEmployeeId,
          occupation,
          name: `${prng.pick(FIRST_NAMES)} ${prng.pick(LAST_NAMES)}`,
          ...extras(),
        };
        employees.push(employee);
        if (occupation === SALESPERSON) {
          const sales: SaleRecord[] = [];
          for (let s = 0; s < opts.salesPerSalesperson; s++) {
            nextSaleId += prng.int(1, 4);
            const [product, unitCents] = prng.pick(PRODUCTS);
            const quantity = prng.int(1, 40);
            sales.push({
              id: nextSaleId,
              transaction_timestamp: formatVendorTimestamp(prng.int(spanStartS, spanEndS) * 1000),
              amount: formatCents(unitCents * quantity),
              product,
              quantity,
              customer: prng.pick(CUSTOMERS),
              ...extras(),
            });
          }
          salesBySalesperson.set(employee.id, sales);
        }
      }
      branches.push({
        id: branchId,
        branch_name: name,
        employees: employees.length,
        location: `${name}, ${state}`,
        ...extras(),
      });
      employeesByBranch.set(branchId, employees);
    }
    return new Dataset(opts, branches, employeesByBranch, salesBySalesperson, nextSaleId + 1, 0);
  }

  /** A deep copy that mutates independently (use it to diff before and after a mutation). */
  clone(): Dataset {
    return new Dataset(
      structuredClone(this.options),
      structuredClone(this.branches),
      structuredClone(this.employeesByBranch),
      structuredClone(this.salesBySalesperson),
      this.#nextSaleId,
      this.#mutations,
    );
  }

  /** The branch with exactly this name (case-sensitive), if any. */
  branchByName(name: string): BranchRecord | undefined {
    return this.branches.find((b) => b.branch_name === name);
  }

  /** The branch with this id, if any. */
  branchById(id: number): BranchRecord | undefined {
    return this.branches.find((b) => b.id === id);
  }

  /** Employees of a branch whose occupation is exactly "salesperson" (empty for an unknown branch). */
  salespersonsOf(branchId: number): EmployeeRecord[] {
    return (this.employeesByBranch.get(branchId) ?? []).filter((e) => e.occupation === SALESPERSON);
  }

  /** Ids of the branches that currently list this employee, ascending. */
  branchesOf(employeeId: number): number[] {
    const ids: number[] = [];
    for (const [branchId, employees] of this.employeesByBranch) {
      if (employees.some((e) => e.id === employeeId)) ids.push(branchId);
    }
    return ids.sort((a, b) => a - b);
  }

  /** Every sale of every salesperson, sorted by sale id. */
  allSales(): SaleRecord[] {
    return [...this.salesBySalesperson.values()].flat().sort(byId);
  }

  /**
   * Applies seeded random changes and returns exactly what changed (see MutationReport).
   * Counts are upper bounds: fewer changes happen when there are not enough candidates
   * (e.g. no salesperson left to transfer), and the report then lists fewer entries.
   */
  mutate(options: Partial<MutationOptions> = {}): MutationReport {
    this.#mutations += 1;
    const opts: MutationOptions = {
      seed: this.options.seed * 7919 + this.#mutations,
      now: Date.now(),
      newSales: 1,
      correctedSales: 1,
      transfers: 1,
      departures: 1,
      branchChanges: 1,
      keepUnderOld: true,
      ...stripUndefined(options),
    };
    for (const key of ['newSales', 'correctedSales', 'transfers', 'departures', 'branchChanges'] as const) {
      checkInt(key, opts[key], 0);
    }
    checkInt('now', opts.now, 0);
    const prng = new Prng(opts.seed, 2);
    const report: MutationReport = {
      seed: opts.seed,
      now: opts.now,
      newSales: [],
      correctedSales: [],
      transfers: [],
      departures: [],
      branchChanges: [],
    };
    const changedFields = new Map<number, Set<string>>();
    const markBranch = (branchId: number, field: string): void => {
      const set = changedFields.get(branchId) ?? new Set<string>();
      set.add(field);
      changedFields.set(branchId, set);
    };
    const listOf = (branchId: number): EmployeeRecord[] => {
      const list = this.employeesByBranch.get(branchId);
      if (!list) throw new Error(`internal: branch ${branchId} has no employee list`);
      return list;
    };
    const branchIds = this.branches.map((b) => b.id);

    // Transfers first, so that departures can exclude the salespersons just moved (one change per employee keeps the report unambiguous).
    const movable = [...this.salesBySalesperson.keys()]
      .map((id) => ({ id, under: this.branchesOf(id) }))
      .filter((c) => c.under.length > 0 && c.under.length < branchIds.length);
    const touched = new Set<number>();
    for (const candidate of prng.sample(movable, opts.transfers)) {
      const fromBranchId = prng.pick(candidate.under);
      const toBranchId = prng.pick(branchIds.filter((id) => !candidate.under.includes(id)));
      const fromList = listOf(fromBranchId);
      const record = fromList.find((e) => e.id === candidate.id);
      if (!record) throw new Error(`internal: employee ${candidate.id} not under branch ${fromBranchId}`);
      const toList = listOf(toBranchId);
      toList.push(structuredClone(record));
      toList.sort(byId);
      if (!opts.keepUnderOld) fromList.splice(fromList.indexOf(record), 1);
      touched.add(candidate.id);
      report.transfers.push({
        employeeId: candidate.id,
        fromBranchId,
        toBranchId,
        keptUnderOld: opts.keepUnderOld,
      });
    }

    const memberships: DepartureChange[] = [];
    for (const [branchId, employees] of this.employeesByBranch) {
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
      const list = listOf(d.branchId);
      list.splice(
        list.findIndex((e) => e.id === d.employeeId),
        1,
      );
      report.departures.push(d);
    }

    // Corrections pick among sales that existed before this mutation, so a sale is never both new and corrected.
    const existing = this.allSales();
    const ownerOf = new Map<number, number>();
    for (const [employeeId, sales] of this.salesBySalesperson)
      for (const s of sales) ownerOf.set(s.id, employeeId);
    for (const sale of prng.sample(existing, opts.correctedSales)) {
      const quantity = sale.quantity + prng.int(1, 9);
      const cents = parseCents(sale.amount) + prng.int(1, 5000);
      sale.quantity = quantity;
      sale.amount = formatCents(cents);
      report.correctedSales.push({ saleId: sale.id, employeeId: ownerOf.get(sale.id) ?? -1 });
    }

    const listed = [...this.salesBySalesperson.keys()].filter((id) => this.branchesOf(id).length > 0);
    const lowS = Math.ceil((opts.now - HOUR_MS) / 1000);
    const highS = Math.ceil(opts.now / 1000) - 1;
    for (let n = 0; n < opts.newSales && listed.length > 0; n++) {
      const employeeId = prng.pick(listed);
      const [product, unitCents] = prng.pick(PRODUCTS);
      const quantity = prng.int(1, 40);
      const saleId = this.#nextSaleId;
      this.#nextSaleId += prng.int(1, 4);
      const sale: SaleRecord = {
        id: saleId,
        transaction_timestamp: formatVendorTimestamp(prng.int(lowS, highS) * 1000),
        amount: formatCents(unitCents * quantity),
        product,
        quantity,
        customer: prng.pick(CUSTOMERS),
      };
      for (let k = 1; k <= this.options.extraFields; k++) sale[`extra_${k}`] = extraValue(prng);
      const sales = this.salesBySalesperson.get(employeeId) ?? [];
      sales.push(sale);
      this.salesBySalesperson.set(employeeId, sales);
      report.newSales.push({ saleId, employeeId });
    }

    for (const branch of prng.sample(this.branches, opts.branchChanges)) {
      const extraKeys = Object.keys(branch).filter((k) => k.startsWith('extra_'));
      if (extraKeys.length > 0 && prng.chance(0.5)) {
        const key = prng.pick(extraKeys);
        let value = extraValue(prng);
        while (value === branch[key]) value = extraValue(prng);
        branch[key] = value;
        markBranch(branch.id, key);
      } else {
        const city = branch.location.split(', ').slice(-2).join(', ');
        let location = `${prng.int(1, 9999)} ${prng.pick(STREETS)}, ${city}`;
        while (location === branch.location) location = `${prng.int(1, 9999)} ${prng.pick(STREETS)}, ${city}`;
        branch.location = location;
        markBranch(branch.id, 'location');
      }
    }

    for (const branch of this.branches) {
      const count = listOf(branch.id).length;
      if (branch.employees !== count) {
        branch.employees = count;
        markBranch(branch.id, 'employees');
      }
    }
    report.branchChanges = [...changedFields.entries()]
      .sort(([a], [b]) => a - b)
      .map(([branchId, fields]) => ({ branchId, fields: [...fields].sort() }));
    return report;
  }
}

/** Generates a dataset; shorthand for Dataset.generate. */
export function generateDataset(options: Partial<DatasetOptions> = {}): Dataset {
  return Dataset.generate(options);
}
