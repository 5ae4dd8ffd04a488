/**
 * The made-up world the simulator's data is drawn from (branch names, people, products,
 * customers, streets), and the small value helpers that generation and mutation share.
 */
import { DEFAULT_BRANCHES } from '../shared/branches.js';
import type { Prng } from './prng.js';

/** The first branch names, in this order: the 13 branches the original pipeline synced. */
export const BRANCH_NAMES: readonly string[] = DEFAULT_BRANCHES;

export const BRANCH_STATES: readonly string[] = [
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

export const OTHER_OCCUPATIONS: readonly string[] = [
  'accountant',
  'data engineer',
  'receptionist',
  'warehouse',
  'customer service',
  'quality assurance',
  'human resources',
  'supplier relations',
];

export const FIRST_NAMES: readonly string[] = [
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

export const LAST_NAMES: readonly string[] = [
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
export const PRODUCTS: readonly (readonly [string, number])[] = [
  ['copy paper A4', 1499],
  ['copy paper letter', 1399],
  ['cardstock', 2250],
  ['envelopes #10', 899],
  ['legal pads', 1200],
  ['sticky notes', 650],
  ['toner cartridge', 7990],
  ['printer paper ream', 549],
];

export const CUSTOMERS: readonly string[] = [
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

export const STREETS: readonly string[] = [
  'Slough Ave',
  'Main St',
  'Elm St',
  'Commerce Blvd',
  'Lake Rd',
  'Park Ave',
];

export const HOUR_MS = 3_600_000;

export function checkInt(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Drops keys whose value is undefined so that they do not override defaults in a spread. */
export function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function parseCents(amount: string): number {
  return Math.round(Number(amount) * 100);
}

export function extraValue(prng: Prng): string {
  return `x-${prng.int(0, 0xffffff).toString(16).padStart(6, '0')}`;
}

export function byId(a: { id: number }, b: { id: number }): number {
  return a.id - b.id;
}
