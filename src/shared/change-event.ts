/**
 * The change event's shape: what the change feed writes (one NDJSON line per event) and the
 * PostgreSQL copy applies. Pure, so both sides (src/feed, src/sql) import it from below and
 * neither imports the other's model. How an event is built from a DynamoDB Streams record is
 * src/feed/events.ts.
 */

import type { SyncedTable } from './tables.js';

/** A table the feed carries: every synced table (SYNCED_TABLES), never the quarantine table. */
export type FeedTable = SyncedTable;

export type ChangeOp = 'INSERT' | 'MODIFY' | 'REMOVE';

/** One change, as written to the change objects (one JSON line each) and applied to PostgreSQL. */
export interface ChangeEvent {
  table: FeedTable;
  op: ChangeOp;
  key: Record<string, string>;
  /** The stream sequence number (decimal digits): the change's version. */
  seq: string;
  shard: string;
  /** When DynamoDB recorded the change (the stream's approximate time, ISO). */
  changedAt: string;
  /** The item's synced_at: when the sync wrote it. */
  writtenAt?: string;
  /** The sync run (workflow run ID) and workflow that wrote it, and the window of that run. */
  run?: string;
  workflow?: string;
  window?: string;
  new?: Record<string, unknown>;
  old?: Record<string, unknown>;
}

/** Compares two sequence numbers (decimal digit strings of any length) numerically. */
export function compareSeq(a: string, b: string): number {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
