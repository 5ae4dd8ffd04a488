/**
 * The simulator's data: branches, their employees and the salespersons' sales,
 * generated deterministically from a seed, and changed by seeded mutations that report
 * exactly what they changed (so a test can predict what a sync must write).
 *
 * Generation is here; the mutations are in mutation.ts and the names, products and
 * customers both draw from in vocabulary.ts. This file re-exports their public names.
 */
import { formatVendorTimestamp } from '../vendor-api/schemas.js';
import type { MutationOptions, MutationReport } from './mutation.js';
import { mutateDataset } from './mutation.js';
import { Prng } from './prng.js';
import type { BranchRecord, EmployeeRecord, SaleRecord } from './records.js';
import {
  BRANCH_NAMES,
  BRANCH_STATES,
  CUSTOMERS,
  FIRST_NAMES,
  HOUR_MS,
  LAST_NAMES,
  OTHER_OCCUPATIONS,
  PRODUCTS,
  SALESPERSON,
  byId,
  checkInt,
  extraValue,
  formatCents,
  stripUndefined,
} from './vocabulary.js';

export { BRANCH_NAMES, SALESPERSON, stripUndefined } from './vocabulary.js';
export type { BranchRecord, EmployeeRecord, SaleRecord } from './records.js';
export type {
  BranchChange,
  DepartureChange,
  MutationOptions,
  MutationReport,
  SaleChange,
  TransferChange,
} from './mutation.js';
export type { DatedSaleChange, HistoryMoveOptions, HistoryMoveReport } from './history-moves.js';
export {
  HISTORY_MOVES,
  LATE_SALE_MAX_DAYS,
  LATE_SALE_MIN_DAYS,
  OLD_CORRECTION_MIN_DAYS,
} from './history-moves.js';

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
  /** Listed sales per salesperson id (every salesperson ever generated, listed or departed), sorted by sale id. */
  readonly salesBySalesperson: Map<number, SaleRecord[]>;
  /** Voided sales per salesperson id, sorted by sale id: no longer listed, kept so that a reappearance can list them again. */
  readonly voidedSales: Map<number, SaleRecord[]>;
  /** Employee records each branch id no longer lists (departed or transferred away), sorted by id. */
  readonly formerMembers: Map<number, EmployeeRecord[]>;
  #nextSaleId: number;
  #mutations: number;

  private constructor(
    options: DatasetOptions,
    lists: Pick<
      Dataset,
      'branches' | 'employeesByBranch' | 'salesBySalesperson' | 'voidedSales' | 'formerMembers'
    >,
    nextSaleId: number,
    mutations: number,
  ) {
    this.options = options;
    this.branches = lists.branches;
    this.employeesByBranch = lists.employeesByBranch;
    this.salesBySalesperson = lists.salesBySalesperson;
    this.voidedSales = lists.voidedSales;
    this.formerMembers = lists.formerMembers;
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
    const lists = {
      branches,
      employeesByBranch,
      salesBySalesperson,
      voidedSales: new Map(),
      formerMembers: new Map(),
    };
    return new Dataset(opts, lists, nextSaleId + 1, 0);
  }

  /** A deep copy that mutates independently (use it to diff before and after a mutation). */
  clone(): Dataset {
    return new Dataset(
      structuredClone(this.options),
      structuredClone({
        branches: this.branches,
        employeesByBranch: this.employeesByBranch,
        salesBySalesperson: this.salesBySalesperson,
        voidedSales: this.voidedSales,
        formerMembers: this.formerMembers,
      }),
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

  /** Every listed sale of every salesperson (voided ones not), sorted by sale id. */
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
    const { report, nextSaleId } = mutateDataset(
      this,
      options,
      this.options.seed * 7919 + this.#mutations,
      this.#nextSaleId,
    );
    this.#nextSaleId = nextSaleId;
    return report;
  }
}

/** Generates a dataset; shorthand for Dataset.generate. */
export function generateDataset(options: Partial<DatasetOptions> = {}): Dataset {
  return Dataset.generate(options);
}
