/**
 * The simulator's records, and the view of its data the mutations change (mutation.ts): below
 * both the generator (dataset.ts) and the mutations, so neither imports the other's module
 * for a type.
 */

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

/** What the mutations read and change of a dataset (the Dataset class of dataset.ts). */
export interface DatasetView {
  readonly options: { readonly extraFields: number };
  readonly branches: BranchRecord[];
  readonly employeesByBranch: Map<number, EmployeeRecord[]>;
  readonly salesBySalesperson: Map<number, SaleRecord[]>;
  /** Voided sales per salesperson id: no longer listed, kept so that they can be listed again. */
  readonly voidedSales: Map<number, SaleRecord[]>;
  /** Employee records a branch no longer lists (departed, or transferred away), per branch id. */
  readonly formerMembers: Map<number, EmployeeRecord[]>;
  /** Ids of the branches that currently list this employee, ascending. */
  branchesOf(employeeId: number): number[];
  /** Every sale of every salesperson, sorted by sale id. */
  allSales(): SaleRecord[];
}
