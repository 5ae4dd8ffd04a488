/**
 * Reconcile: compares one table's PostgreSQL copy with DynamoDB item by item and, with repair,
 * makes them equal (docs/change-feed.md, "Reconcile and repair"). Never the whole table in
 * memory: DynamoDB is scanned page by page, each page compared in PostgreSQL (src/sql/reconcile.ts)
 * where the keys seen and the keys that differ are kept in temporary tables; then the rows
 * alive without an item seen join the differences.
 *
 * Settle time: a change the feed has not applied yet is not a gap. The differences the pass saw
 * are read again (a consistent read of each item) once `settleSeconds` have passed after the
 * pass; only those still there count, and are repaired. That read is also the repair's read
 * time, so a repair never moves back a row the stream changed after it.
 */
import { Context } from '@temporalio/activity';
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/client-dynamodb';
import type pg from 'pg';
import {
  DIFFERENCE_KINDS,
  KIND_TEXT,
  MAX_EXAMPLES,
  type ReconcileActivities,
  type ReconcileProgress,
  type ReconcileTableInput,
  type TableReport,
  UNWRITABLE_TEXT,
} from '../shared/reconcile.js';
import { compact } from '../sql/upsert.js';
import {
  candidatePage,
  classify,
  createScratch,
  dropScratch,
  markExtras,
  markPage,
  markSeen,
  repairItems,
  splitConvertible,
  tombstone,
} from '../sql/reconcile.js';
import { TABLE_KEYS, type TableNames } from '../store/tables.js';
import { type FeedTable, toChangeEvent } from './events.js';

/** What the reconcile and the snapshot use (the feed worker's clients). */
export interface ReconcileDeps {
  dynamo: DynamoDBClient;
  names: TableNames;
  pool: pg.Pool;
}

/** Items per scan page. */
export const SCAN_PAGE = 500;
/** Keys per BatchGetItem (DynamoDB's limit). */
const GET_PAGE = 100;

/** An item as the feed's compact event (the same conversion as a stream record's). */
export function itemEvent(table: FeedTable, item: Record<string, AttributeValue>): string {
  return compact(
    toChangeEvent(table, 'reconcile', {
      eventName: 'INSERT',
      dynamodb: { Keys: item, NewImage: item, SequenceNumber: '0' },
    }),
  );
}

/** `<table> <key>` as reports name a row: the key's values joined by `|` (partition key first). */
export function keyText(table: FeedTable, key: Record<string, string>): string {
  const k: { pk: string; sk?: string } = TABLE_KEYS[table];
  return `${table} ${k.sk ? `${key[k.pk]}|${key[k.sk]}` : key[k.pk]}`;
}

/**
 * One page of the table's items, read consistently (a reconcile or snapshot compares what the table
 * holds now), as compact events, and the key the next page starts after.
 */
export async function scanPage(
  deps: Pick<ReconcileDeps, 'dynamo' | 'names'>,
  table: FeedTable,
  start: Record<string, AttributeValue> | undefined,
  pageSize: number,
): Promise<{ events: string[]; LastEvaluatedKey?: Record<string, AttributeValue> }> {
  const out: ScanCommandOutput = await deps.dynamo.send(
    new ScanCommand({
      TableName: deps.names[table],
      ExclusiveStartKey: start,
      Limit: pageSize,
      ConsistentRead: true,
    }),
  );
  return {
    events: (out.Items ?? []).map((i) => itemEvent(table, i)),
    ...(out.LastEvaluatedKey ? { LastEvaluatedKey: out.LastEvaluatedKey } : {}),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pass: every item compared; returns the items scanned and the candidates. */
async function scanPass(
  deps: ReconcileDeps,
  client: pg.PoolClient,
  table: FeedTable,
  report: TableReport,
  beat: (phase: ReconcileProgress['phase']) => void,
  pageSize: number,
): Promise<void> {
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await scanPage(deps, table, start, pageSize);
    const { events } = out;
    const { ok, failed } = await splitConvertible(client, table, events);
    await markSeen(
      client,
      table,
      failed.map((f) => f.key),
    );
    report.candidates += ok.length ? await markPage(client, table, ok) : 0;
    report.items += events.length;
    for (const f of failed) example(report, `${keyText(table, f.key)}: ${UNWRITABLE_TEXT} (${f.reason})`);
    beat('scan');
    start = out.LastEvaluatedKey;
  } while (start);
  report.candidates += await markExtras(client, table);
}

function example(report: TableReport, text: string): void {
  if (report.examples.length < MAX_EXAMPLES) report.examples.push(text);
}

/** The items of `keys` now (consistent reads), as compact events. */
async function readItems(deps: ReconcileDeps, table: FeedTable, keys: Record<string, string>[]) {
  const out: string[] = [];
  let pending: Record<string, AttributeValue>[] = keys.map((k) =>
    Object.fromEntries(Object.entries(k).map(([n, v]) => [n, { S: v }])),
  );
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await sleep(Math.min(2000, 50 * 2 ** attempt));
    const res: BatchGetItemCommandOutput = await deps.dynamo.send(
      new BatchGetItemCommand({
        RequestItems: { [deps.names[table]]: { Keys: pending, ConsistentRead: true } },
      }),
    );
    for (const item of res.Responses?.[deps.names[table]] ?? []) out.push(itemEvent(table, item));
    pending = res.UnprocessedKeys?.[deps.names[table]]?.Keys ?? [];
  }
  return out;
}

/** The candidates read again: what still differs is counted, and repaired when asked. */
async function recheck(
  deps: ReconcileDeps,
  client: pg.PoolClient,
  input: ReconcileTableInput,
  report: TableReport,
  beat: (phase: ReconcileProgress['phase']) => void,
): Promise<void> {
  const { table } = input;
  let after: Record<string, string> | undefined;
  for (;;) {
    const keys = await candidatePage(client, table, after, GET_PAGE);
    if (keys.length === 0) return;
    after = keys.at(-1);
    const readAt = new Date();
    const { ok, failed } = await splitConvertible(client, table, await readItems(deps, table, keys));
    // An item the feed cannot write (since the pass) is neither compared nor taken as gone.
    const unwritable = new Set(failed.map((f) => keyText(table, f.key)));
    for (const f of failed) example(report, `${keyText(table, f.key)}: ${UNWRITABLE_TEXT} (${f.reason})`);
    const diffs = await classify(
      client,
      table,
      keys.filter((k) => !unwritable.has(keyText(table, k))),
      ok,
    );
    for (const d of diffs) {
      report.found[d.kind]++;
      example(report, `${keyText(table, d.key)}: ${KIND_TEXT[d.kind]}`);
    }
    if (input.repair && diffs.length > 0) {
      const fix = new Set(diffs.filter((d) => d.kind !== 'extra').map((d) => JSON.stringify(d.key)));
      const items = ok.filter((e) => fix.has(JSON.stringify((JSON.parse(e) as { k: unknown }).k)));
      const gone = diffs.filter((d) => d.kind === 'extra').map((d) => d.key);
      report.repaired += await repairItems(client, table, items, readAt);
      report.repaired += await tombstone(client, table, gone, readAt);
    }
    beat('recheck');
  }
}

/**
 * Reconciles one table (see the module comment). `heartbeat` gets the progress after each page
 * and during the settle time.
 */
export async function reconcileTable(
  deps: ReconcileDeps,
  input: ReconcileTableInput,
  heartbeat: (p: ReconcileProgress) => void = () => undefined,
  pageSize = SCAN_PAGE,
): Promise<TableReport> {
  const { table } = input;
  const report: TableReport = {
    table,
    items: 0,
    candidates: 0,
    found: Object.fromEntries(DIFFERENCE_KINDS.map((k) => [k, 0])) as TableReport['found'],
    repaired: 0,
    examples: [],
  };
  const beat = (phase: ReconcileProgress['phase']) =>
    heartbeat({ phase, items: report.items, candidates: report.candidates });
  const client = await deps.pool.connect();
  try {
    await createScratch(client, table);
    await scanPass(deps, client, table, report, beat, pageSize);
    if (report.candidates === 0) return report;
    const settleUntil = Date.now() + input.settleSeconds * 1000;
    while (Date.now() < settleUntil) {
      beat('settle');
      await sleep(Math.min(5000, settleUntil - Date.now()));
    }
    await recheck(deps, client, input, report, beat);
    return report;
  } finally {
    await dropScratch(client).catch(() => undefined);
    client.release();
  }
}

/** The reconcile's activity, bound to its dependencies. */
export function createReconcileActivities(deps: ReconcileDeps): ReconcileActivities {
  return {
    reconcileTable: (input) => {
      const ctx = Context.current();
      return reconcileTable(deps, input, (p) => ctx.heartbeat(p));
    },
  };
}
