/**
 * The change feed's activities. `listShards` lists the shards of every stream of a table;
 * `readShard` reads one shard from the workflow's checkpoint, buffers events like Firehose
 * (count, bytes, time), writes the batch as one gzip NDJSON object, applies it to PostgreSQL and
 * returns only the new checkpoint and counts. An attempt lost mid-batch (worker killed,
 * PostgreSQL down) is retried from the same checkpoint: it writes the object of the same name
 * again and applies the same events again, which changes nothing (src/sql/apply.ts).
 */
import { Context } from '@temporalio/activity';
import {
  DescribeStreamCommand,
  type DescribeStreamCommandOutput,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  ListStreamsCommand,
  type ListStreamsCommandOutput,
  type _Record,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type pg from 'pg';
import type { DynamoConfig } from '../config/aws.js';
import type { FeedMetrics } from '../metrics/worker.js';
import { applyBatch } from '../sql/apply.js';
import { dynamoEndpoint } from '../store/client.js';
import type { TableNames } from '../store/tables.js';
import { type ChangeEvent, type FeedTable, toChangeEvent } from './events.js';
import { type ChangeObjectStore, encodeBatch, eventBytes, objectKey } from './objects.js';
import { snapshotTable } from './snapshot.js';
import type {
  FeedActivities,
  FeedSettings,
  ReadResult,
  ShardInfo,
  ShardListing,
  SkippedStream,
} from './types.js';

/** What the activities use, built once per worker. */
export interface FeedDeps {
  streams: DynamoDBStreamsClient;
  /** DynamoDB itself (the snapshot's scan). */
  dynamo: DynamoDBClient;
  names: TableNames;
  objects: ChangeObjectStore;
  /** Key prefix of the change objects (`changes/`). */
  prefix: string;
  pool: pg.Pool;
  /** Pause between two reads of a shard that returned nothing (ms). */
  pollMs?: number;
  /** Where the lag and the dead letters are recorded (the process's Prometheus endpoint). */
  metrics?: FeedMetrics;
  /**
   * Aborted when the process stops: a read ends its long poll at once and hands back what it
   * has (applied), so a stop neither waits for the poll nor fails the attempt.
   */
  stopping?: AbortSignal;
}

/** The stream view type the feed reads: the others have no new image to apply. */
const VIEW_TYPE = 'NEW_AND_OLD_IMAGES';

/** A Streams client on the DynamoDB endpoint (DynamoDB Local serves both APIs on one port). */
export function createStreamsClient(cfg: DynamoConfig): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({ ...dynamoEndpoint(cfg), maxAttempts: 5 });
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** When the change was made, ms: the sync's write time when the item carries it, else DynamoDB's. */
function changeTime(e: ChangeEvent): number {
  return Date.parse(e.writtenAt ?? '') || Date.parse(e.changedAt);
}

function errorName(err: unknown): string {
  return (err as { name?: string } | null)?.name ?? '';
}

/** Every stream of the table, oldest first. */
async function listStreams(deps: FeedDeps, table: FeedTable): Promise<{ arn: string; label: string }[]> {
  const streams: { arn: string; label: string }[] = [];
  let start: string | undefined;
  do {
    const out: ListStreamsCommandOutput = await deps.streams.send(
      new ListStreamsCommand({ TableName: deps.names[table], ExclusiveStartStreamArn: start }),
    );
    for (const s of out.Streams ?? [])
      if (s.StreamArn) streams.push({ arn: s.StreamArn, label: s.StreamLabel ?? '' });
    start = out.LastEvaluatedStreamArn;
  } while (start);
  return streams.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/**
 * Every shard of every stream of the table, oldest stream first. A stream of another view type
 * than NEW_AND_OLD_IMAGES (one enabled by hand, still listed for 24 h after it was disabled) is
 * skipped and reported: its records carry no new image to apply.
 */
async function listShards(
  deps: FeedDeps,
  table: FeedTable,
  warn: (message: string) => void,
): Promise<ShardListing> {
  const shards: ShardInfo[] = [];
  const skipped: SkippedStream[] = [];
  for (const s of await listStreams(deps, table)) {
    let from: string | undefined;
    do {
      let out: DescribeStreamCommandOutput;
      try {
        out = await deps.streams.send(
          new DescribeStreamCommand({ StreamArn: s.arn, ExclusiveStartShardId: from }),
        );
      } catch (err) {
        if (errorName(err) === 'ResourceNotFoundException') break; // the stream expired meanwhile
        throw err;
      }
      const viewType = out.StreamDescription?.StreamViewType;
      if (viewType !== VIEW_TYPE) {
        skipped.push({ arn: s.arn, label: s.label, viewType: viewType ?? 'unknown' });
        warn(
          `change feed of ${table}: stream ${s.arn} has view type ${viewType ?? 'unknown'}, not ${VIEW_TYPE}: skipped, not read (its changes are not applied)`,
        );
        break;
      }
      for (const sh of out.StreamDescription?.Shards ?? []) {
        if (!sh.ShardId) continue;
        shards.push({
          stream: s.arn,
          id: sh.ShardId,
          ...(sh.ParentShardId ? { parent: sh.ParentShardId } : {}),
          closed: sh.SequenceNumberRange?.EndingSequenceNumber !== undefined,
        });
      }
      from = out.StreamDescription?.LastEvaluatedShardId;
    } while (from);
  }
  return { shards, skipped };
}

/** A shard iterator after `after` (or at the shard's oldest record); `trimmed` when `after` is no longer kept. */
async function iteratorFor(
  deps: FeedDeps,
  stream: string,
  shard: string,
  after: string | undefined,
): Promise<{ iterator?: string; trimmed: boolean }> {
  const get = async (type: 'AFTER_SEQUENCE_NUMBER' | 'TRIM_HORIZON') =>
    (
      await deps.streams.send(
        new GetShardIteratorCommand({
          StreamArn: stream,
          ShardId: shard,
          ShardIteratorType: type,
          ...(type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: after } : {}),
        }),
      )
    ).ShardIterator;
  try {
    return { iterator: await get(after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON'), trimmed: false };
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return { trimmed: false }; // shard or stream gone
    if (errorName(err) !== 'TrimmedDataAccessException' || !after) throw err;
    return { iterator: await get('TRIM_HORIZON'), trimmed: true };
  }
}

/** Reads one shard into one batch (see the module comment); records never leave this function but in the object and PostgreSQL. */
async function readShard(
  deps: FeedDeps,
  input: { table: FeedTable; stream: string; shard: string; after?: string; settings: FeedSettings },
  heartbeat: () => void,
  signal: AbortSignal | undefined,
  attempt = 1,
): Promise<ReadResult> {
  const { table, stream, shard, settings } = input;
  const started = Date.now();
  const { iterator: first, trimmed } = await iteratorFor(deps, stream, shard, input.after);
  const empty = { events: 0, applied: 0, deadLettered: 0, lagMs: 0, trimmed };
  if (!first) {
    deps.metrics?.lag(table, shard, 0, true);
    return { ...empty, done: true };
  }
  const batch: ChangeEvent[] = [];
  let bytes = 0;
  let firstAt = 0;
  let iterator: string | undefined = first;
  /** The oldest change seen but left for the next batch. */
  let waiting: ChangeEvent | undefined;
  const wake = deps.stopping && signal ? AbortSignal.any([deps.stopping, signal]) : (deps.stopping ?? signal);
  for (;;) {
    heartbeat();
    signal?.throwIfAborted();
    if (deps.stopping?.aborted) break;
    let out: GetRecordsCommandOutput;
    try {
      out = await deps.streams.send(
        new GetRecordsCommand({
          ShardIterator: iterator,
          Limit: Math.min(1000, settings.maxEvents - batch.length),
        }),
      );
    } catch (err) {
      // DynamoDB Local answers so for a shard that has no record yet: nothing to read for now.
      if (errorName(err) !== 'TrimmedDataAccessException' || batch.length > 0 || input.after) throw err;
      if (Date.now() - started >= settings.idleSeconds * 1000 || deps.stopping?.aborted)
        return { ...empty, done: false };
      await sleep(deps.pollMs ?? 1000, wake);
      iterator = (await iteratorFor(deps, stream, shard, undefined)).iterator;
      if (!iterator) return { ...empty, done: true };
      continue;
    }
    const records: _Record[] = out.Records ?? [];
    for (const r of records) {
      const e = toChangeEvent(table, shard, r);
      const size = eventBytes(e);
      if (batch.length > 0 && (batch.length >= settings.maxEvents || bytes + size > settings.maxBytes)) {
        waiting = e;
        break;
      }
      if (batch.length === 0) firstAt = Date.now();
      batch.push(e);
      bytes += size;
    }
    iterator = out.NextShardIterator;
    const full = waiting !== undefined || batch.length >= settings.maxEvents || bytes >= settings.maxBytes;
    if (!iterator || full) break;
    const now = Date.now();
    if (batch.length > 0 && now - firstAt >= settings.maxSeconds * 1000) break;
    if (batch.length === 0 && now - started >= settings.idleSeconds * 1000) break;
    if (records.length === 0) await sleep(deps.pollMs ?? 1000, wake);
  }
  const done = iterator === undefined && waiting === undefined;
  // The oldest change not yet applied: one left over, else the next one the shard holds.
  if (!waiting && iterator && batch.length > 0) {
    const peek = await deps.streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1 }));
    const r = peek.Records?.[0];
    if (r) waiting = toChangeEvent(table, shard, r);
  }
  const lagMs = waiting ? Math.max(0, Date.now() - changeTime(waiting)) : 0;
  if (batch.length === 0) {
    deps.metrics?.lag(table, shard, lagMs, done);
    return { ...empty, done, lagMs };
  }
  return { ...(await deliver(deps, { table, shard, attempt, lagMs, done }, batch, heartbeat)), trimmed };
}

/** Writes a batch's object and applies it; records the shard's lag and the dead letters. */
async function deliver(
  deps: FeedDeps,
  at: { table: FeedTable; shard: string; attempt: number; lagMs: number; done: boolean },
  batch: ChangeEvent[],
  heartbeat: () => void,
): Promise<Omit<ReadResult, 'trimmed'>> {
  const { table, shard, lagMs, done } = at;
  const first = batch[0] as ChangeEvent;
  // Until it is applied, the batch's first change is the oldest waiting: an attempt that fails
  // (PostgreSQL down) still shows the lag growing.
  deps.metrics?.lag(table, shard, Math.max(0, Date.now() - changeTime(first)), false);
  const key = objectKey(deps.prefix, table, first);
  await deps.objects.put(key, encodeBatch(batch));
  heartbeat();
  const r = await applyBatch(deps.pool, { objectKey: key, table, shard, lagMs, attempt: at.attempt }, batch);
  deps.metrics?.lag(table, shard, lagMs, done);
  if (r.deadLettered) deps.metrics?.deadLettered(table, r.deadLettered);
  const lastSeq = (batch.at(-1) as ChangeEvent).seq;
  return {
    lastSeq,
    events: batch.length,
    objectKey: key,
    applied: r.applied,
    deadLettered: r.deadLettered,
    done,
    lagMs,
  };
}

/** The activities, bound to their dependencies. */
export function createFeedActivities(deps: FeedDeps): FeedActivities {
  return {
    listShards: (table) => {
      const ctx = Context.current();
      return listShards(deps, table, (message) => {
        ctx.log.warn(message);
      });
    },
    snapshotTable: (table) => snapshotTable(deps, table, Context.current()),
    readShard: async (input) => {
      const ctx = Context.current();
      // Heartbeats also while PostgreSQL or the object store are slow to answer.
      const timer = setInterval(() => ctx.heartbeat(), 5000);
      try {
        return await readShard(deps, input, () => ctx.heartbeat(), ctx.cancellationSignal, ctx.info.attempt);
      } finally {
        clearInterval(timer);
      }
    },
  };
}
