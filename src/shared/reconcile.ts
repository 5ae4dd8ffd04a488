/**
 * What the reconcile workflow and its activities exchange: options, counts and a few example
 * keys, never whole items. No I/O here: the workflow imports it.
 */
import type { FeedTable } from './change-event.js';

/**
 * The kinds of difference between the copy and DynamoDB: `missing` (an item without a row),
 * `deleted` (the row is a tombstone, the item exists), `different` (a typed column or `record`
 * differs from the item as the feed would write it), `extra` (the row is alive, the item is gone).
 */
export const DIFFERENCE_KINDS = ['missing', 'deleted', 'different', 'extra'] as const;
export type DifferenceKind = (typeof DIFFERENCE_KINDS)[number];

/** How a difference reads in a report. */
export const KIND_TEXT: Record<DifferenceKind, string> = {
  missing: 'missing in the copy',
  deleted: 'deleted in the copy, the item exists',
  different: 'the row differs from the item',
  extra: 'alive in the copy, the item is gone',
};

/**
 * How a report names an item the feed cannot write (a value a typed column refuses, a key too
 * long for the index): its changes are in the dead letter, and it is not compared.
 */
export const UNWRITABLE_TEXT = 'the feed cannot write the item';

/** Examples of differences kept per table (the counts are complete). */
export const MAX_EXAMPLES = 20;

/** Seconds a difference is given to settle (the feed applying it) before it counts: the default. */
export const DEFAULT_SETTLE_SECONDS = 60;

/** One table's reconcile. */
export interface ReconcileTableInput {
  table: FeedTable;
  /** Make the copy equal DynamoDB (else only report). */
  repair: boolean;
  /** Differences found by the pass are checked again after this long; only those left count. */
  settleSeconds: number;
}

/** What one table's reconcile found and did. */
export interface TableReport {
  table: FeedTable;
  /** Items DynamoDB holds (scanned). */
  items: number;
  /** Differences the pass saw, before they settled. */
  candidates: number;
  /** Differences left after the settle time, by kind. */
  found: Record<DifferenceKind, number>;
  /** Rows the repair wrote (a row the stream changed after the item was read is left alone). */
  repaired: number;
  /** Up to MAX_EXAMPLES differences: `<table> <key>: <kind text>`. */
  examples: string[];
}

/** Input of the reconcile workflow. */
export interface ReconcileInput {
  /** Default: every table of the feed. */
  tables?: FeedTable[];
  repair?: boolean;
  /** Default DEFAULT_SETTLE_SECONDS. */
  settleSeconds?: number;
}

/** The reconcile workflow's result. */
export interface ReconcileReport {
  repair: boolean;
  tables: TableReport[];
}

/** Where a table's reconcile is, sent as heartbeat details. */
export interface ReconcileProgress {
  phase: 'scan' | 'settle' | 'recheck';
  items: number;
  candidates: number;
}

/** Activities of the reconcile (src/feed/reconcile.ts), on the feed's worker. */
export interface ReconcileActivities {
  reconcileTable(input: ReconcileTableInput): Promise<TableReport>;
}
