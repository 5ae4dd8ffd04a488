/**
 * Change objects, as Firehose delivers them: gzip NDJSON, one event a line, under
 * `<prefix><table>/<yyyy>/<mm>/<dd>/<hh>/` (UTC hour of the batch's first change). The name is
 * made of the shard and the first event's sequence number only, so a batch that is retried
 * (the consumer killed after writing it) overwrites the same object instead of adding one:
 * every batch starts right after the checkpoint the workflow keeps, whatever its length.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { type ChangeEvent, type FeedTable, eventLine, parseEventLines } from './events.js';

/** Where change objects go: the object store's put, get and list (the landing bucket). */
export interface ChangeObjectStore {
  /** A description for logs and `npm start` (`s3://bucket/prefix`). */
  readonly where: string;
  put(key: string, body: Buffer): Promise<void>;
  get(key: string): Promise<Buffer>;
  /** Every key under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
}

/** Default key prefix of change objects. */
export const CHANGES_PREFIX = 'changes/';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The key of the batch whose first event is `first`. */
export function objectKey(prefix: string, table: FeedTable, first: ChangeEvent): string {
  const t = new Date(first.changedAt);
  const hour = `${t.getUTCFullYear()}/${pad(t.getUTCMonth() + 1)}/${pad(t.getUTCDate())}/${pad(t.getUTCHours())}`;
  // Shard IDs are `shardId-<digits>-<hex>`: safe in a key as they are.
  return `${prefix}${table}/${hour}/${table}-${first.shard}-${first.seq}.ndjson.gz`;
}

/** The object body of a batch: gzip NDJSON (deterministic: the same events give the same bytes). */
export function encodeBatch(events: ChangeEvent[]): Buffer {
  return gzipSync(Buffer.from(events.map((e) => `${eventLine(e)}\n`).join(''), 'utf8'));
}

/** The events of an object body. */
export function decodeBatch(body: Buffer): ChangeEvent[] {
  return parseEventLines(gunzipSync(body).toString('utf8'));
}

/** Size of an event in the buffer (its NDJSON line, bytes). */
export function eventBytes(e: ChangeEvent): number {
  return Buffer.byteLength(eventLine(e), 'utf8') + 1;
}
