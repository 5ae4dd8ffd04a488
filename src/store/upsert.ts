/**
 * Write-only-if-changed, in bulk: a record is written only when its content differs from the
 * stored item's.
 *
 * Each item carries `content_hash`, a stable hash of the vendor's record (and nothing the
 * pipeline adds). A batch of records costs one BatchGetItem per 100 keys, reading only the
 * keys and the stored hash; only the records whose hash differs (or that have no item)
 * are written, with BatchWriteItem, 25 per request.
 *
 * Why BatchWriteItem and not a conditional PutItem per record: a first run writes every
 * record, and 25 puts per request make it 25x fewer requests at the same write capacity;
 * later runs write only what changed. Batch writes cannot carry conditions, which is safe
 * here because every write is a full-item put keyed by the vendor's stable ids: two runs
 * overlapping on the same items (a manual trigger during a scheduled run) both read, both
 * see the same change and both put the same content, so the result is the same item, never
 * a duplicate, and nothing is lost. If the vendor changed a record between the two
 * fetches, the later put wins; whichever version lands, the next run compares hashes again
 * and corrects it. A conditional put would reject the second identical write, but a
 * rejected conditional write still consumes write capacity, so it would buy nothing.
 *
 * A replay is the exception (`keepNewer`): it writes older answers, so it must never replace an
 * item fetched later than its answer. See guarded.ts for why those writes are conditional.
 */
import { createHash } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { GET_BATCH, WRITE_BATCH, batchGet, batchPut } from './batch.js';
import { stableStringify } from '../shared/json-text.js';
import type { DynamoClients } from './client.js';
import { itemProblem, toDynamo } from './storable.js';
import { FETCHED_AT, SYNCED_AT, isValidationError, writeGuarded } from './guarded.js';
import { LEFT_AT, VOIDED_AT } from '../shared/completeness.js';

export { stableStringify };

/** Item attribute that holds the content hash. */
export const HASH_ATTRIBUTE = 'content_hash';

/** sha256 of the stable JSON of `value`, hex. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex');
}

/** An item to upsert: its key, the content that decides whether it changed, and the full item. */
export interface UpsertItem {
  key: Record<string, string>;
  hash: string;
  item: Record<string, unknown>;
  /** The vendor's record, handed back when the item cannot be stored. */
  source?: unknown;
}

/** An item DynamoDB cannot store as sent, and why. */
export interface Rejected {
  source: unknown;
  reason: string;
}

/** What an upsert did. Rejected items were not written; everything else was. */
export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Items left alone because the stored one was fetched later (`keepNewer` only). */
  newerKept: number;
  /** Items marked voided or left that were listed again: rewritten without the mark (counted in updated). */
  restored: number;
  rejected: Rejected[];
}

/** Options of one upsert. */
export interface UpsertOptions {
  /**
   * Aborts before any further request (and the request in flight): an activity attempt that
   * Temporal gave up on (timed out, cancelled) must not write after the attempt that replaced it.
   */
  signal?: AbortSignal;
  /** Count what would be inserted and updated, write nothing (a replay's --dry-run). */
  dryRun?: boolean;
  /**
   * When the vendor sent this content (the answer's fetchedAt, ISO): recorded on each item as
   * `fetched_at`, outside the content hash.
   */
  fetchedAt?: string;
  /**
   * A replay: leave alone every item whose stored fetch time is later than `fetchedAt` (counted
   * in `newerKept`). An item written before fetched_at existed counts its synced_at, the time
   * it was written, which is never before its content was fetched. Off for a live run (it is
   * the newest) and for a replay with --force (a restore on purpose).
   */
  keepNewer?: boolean;
}

function keyString(key: Record<string, string>): string {
  return Object.keys(key)
    .sort()
    .map((k) => `${k}=${key[k]}`)
    .join('|');
}

/** What the writer reads of a stored item: its content hash and when its content was fetched. */
interface StoredState {
  hash: string | undefined;
  /** fetched_at, or synced_at for an item written before fetched_at was recorded. */
  fetchedAt: string | undefined;
  /** The item carries voided_at or left_at: the vendor had stopped listing it. */
  marked: boolean;
  /** When it was marked (ISO). */
  markedAt: string | undefined;
}

/** Reads the stored hashes and fetch times of `keys` (at most 100) from one table, retrying unprocessed keys. */
async function storedHashes(
  clients: DynamoClients,
  table: string,
  keys: Record<string, string>[],
  keyNames: string[],
  signal: AbortSignal | undefined,
): Promise<Map<string, StoredState>> {
  const found = new Map<string, StoredState>();
  const names: Record<string, string> = {
    '#h': HASH_ATTRIBUTE,
    '#f': FETCHED_AT,
    '#s': SYNCED_AT,
    '#v': VOIDED_AT,
    '#l': LEFT_AT,
  };
  keyNames.forEach((k, i) => (names[`#k${i}`] = k));
  const projection = ['#h', '#f', '#s', '#v', '#l', ...keyNames.map((_, i) => `#k${i}`)].join(', ');
  const items = await batchGet(
    clients,
    table,
    keys,
    { ProjectionExpression: projection, ExpressionAttributeNames: names },
    signal,
  );
  for (const item of items) {
    const key: Record<string, string> = {};
    for (const k of keyNames) key[k] = String(item[k]);
    const fetchedAt = (item[FETCHED_AT] ?? item[SYNCED_AT]) as string | undefined;
    const markedAt = (item[VOIDED_AT] ?? item[LEFT_AT]) as string | undefined;
    found.set(keyString(key), {
      hash: item[HASH_ATTRIBUTE] as string | undefined,
      fetchedAt,
      marked: markedAt !== undefined,
      markedAt,
    });
  }
  return found;
}

/**
 * Writes one chunk. When DynamoDB refuses the batch for its content, each item is put alone,
 * so the item it refuses is found and set aside and the others are stored in this attempt.
 */
async function writeChunk(
  clients: DynamoClients,
  table: string,
  chunk: { item: Record<string, unknown>; source: unknown }[],
  rejected: Rejected[],
  signal: AbortSignal | undefined,
): Promise<number> {
  try {
    await batchPut(
      clients,
      table,
      chunk.map((c) => c.item),
      signal,
    );
    return 0;
  } catch (err) {
    if (!isValidationError(err)) throw err;
  }
  let refused = 0;
  for (const c of chunk) {
    signal?.throwIfAborted();
    try {
      await clients.doc.send(new PutCommand({ TableName: table, Item: c.item }), { abortSignal: signal });
      clients.stats.itemsWritten++;
    } catch (err) {
      if (!isValidationError(err)) throw err;
      rejected.push({ source: c.source, reason: `DynamoDB refused the item: ${(err as Error).message}` });
      refused++;
    }
  }
  return refused;
}

/** An item to write, with what it replaces. */
interface Change {
  item: Record<string, unknown>;
  source: unknown;
  isNew: boolean;
  /** The stored item carries a void or departure mark that this write clears. */
  restores: boolean;
}

/**
 * Upserts items into one table, writing only those whose hash differs from the stored one
 * (and, with `keepNewer`, whose stored item was not fetched later).
 * Items DynamoDB cannot store as sent come back in `rejected` (with the reason) and are
 * neither written nor counted as inserted or updated; every other item is written.
 * Items must have distinct keys (DynamoDB refuses duplicate keys in one batch).
 */
export async function upsertIfChanged(
  clients: DynamoClients,
  table: string,
  keyNames: string[],
  items: UpsertItem[],
  options: UpsertOptions = {},
): Promise<UpsertResult> {
  const { signal, fetchedAt } = options;
  const keepNewer = options.keepNewer === true && fetchedAt !== undefined;
  const result: UpsertResult = {
    inserted: 0,
    updated: 0,
    unchanged: 0,
    newerKept: 0,
    restored: 0,
    rejected: [],
  };
  const storable: UpsertItem[] = [];
  for (const c of items) {
    const problem = itemProblem({ ...c.item, ...c.key, [HASH_ATTRIBUTE]: c.hash });
    if (problem) result.rejected.push({ source: c.source ?? c.item, reason: problem });
    else storable.push(c);
  }
  const changed: Change[] = [];
  for (let i = 0; i < storable.length; i += GET_BATCH) {
    const chunk = storable.slice(i, i + GET_BATCH);
    const stored = await storedHashes(
      clients,
      table,
      chunk.map((c) => c.key),
      keyNames,
      signal,
    );
    for (const c of chunk) {
      const change = changeOf(c, stored.get(keyString(c.key)), keepNewer ? fetchedAt : undefined, result);
      if (change) changed.push(change);
    }
  }
  if (options.dryRun) {
    for (const c of changed) countWrite(result, c);
    return result;
  }
  if (keepNewer) {
    await writeGuarded(clients, table, keyNames[0] ?? '', fetchedAt, changed, result, signal);
    return result;
  }
  for (let i = 0; i < changed.length; i += WRITE_BATCH) {
    const chunk = changed.slice(i, i + WRITE_BATCH);
    const before = result.rejected.length;
    await writeChunk(clients, table, chunk, result.rejected, signal);
    const refused = new Set(result.rejected.slice(before).map((r) => r.source));
    for (const c of chunk) if (!refused.has(c.source)) countWrite(result, c);
  }
  return result;
}

/**
 * The write one item needs against what is stored, or undefined (counted unchanged or newer
 * kept). `keepNewerThan`: a replay's fetch time, above which a stored item is left alone.
 */
function changeOf(
  c: UpsertItem,
  found: StoredState | undefined,
  keepNewerThan: string | undefined,
  result: UpsertResult,
): Change | undefined {
  // A voided sale or departed membership listed again is rewritten without its mark.
  if (found && found.hash === c.hash && !found.marked) {
    result.unchanged++;
    return undefined;
  }
  // A replay never moves an item back: neither over content fetched later, nor over a void
  // or departure found after its answer was fetched.
  const newerAt = [found?.fetchedAt, found?.markedAt]
    .filter((t) => t !== undefined)
    .sort()
    .pop();
  if (keepNewerThan !== undefined && newerAt !== undefined && newerAt > keepNewerThan) {
    result.newerKept++;
    return undefined;
  }
  return {
    item: toDynamo({ ...c.item, ...c.key, [HASH_ATTRIBUTE]: c.hash }) as Record<string, unknown>,
    source: c.source ?? c.item,
    isNew: !found,
    restores: found?.marked === true,
  };
}

/** Counts one item written (or, in a dry run, that would be). */
function countWrite(result: UpsertResult, c: Change): void {
  if (c.isNew) result.inserted++;
  else result.updated++;
  if (c.restores) result.restored++;
}
