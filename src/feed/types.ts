/**
 * What the change-feed workflow and its activities exchange: stream positions, settings and
 * counts, never records (they stay in the activities, the change objects and PostgreSQL).
 * No I/O here: the workflow imports it.
 */
import type { FeedTable } from '../shared/change-event.js';

/** Firehose-like buffering of one table's batches (FEED_BATCH_*), and how long an idle read waits. */
export interface FeedSettings {
  /** A batch is written when it holds this many events (FEED_BATCH_MAX_EVENTS). */
  maxEvents: number;
  /** ... or this many bytes of NDJSON (FEED_BATCH_MAX_BYTES). */
  maxBytes: number;
  /** ... or when its first event has waited this long (FEED_BATCH_MAX_SECONDS). */
  maxSeconds: number;
  /** A read that finds nothing returns after this long, so the workflow lists shards again. */
  idleSeconds: number;
}

/** A shard the stream lists. `closed`: it has an ending sequence number (it takes no new records). */
export interface ShardInfo {
  stream: string;
  id: string;
  parent?: string;
  closed: boolean;
}

/** A stream of the table that is not read: its view type is not NEW_AND_OLD_IMAGES. */
export interface SkippedStream {
  arn: string;
  label: string;
  /** DescribeStream's StreamViewType (KEYS_ONLY, NEW_IMAGE, OLD_IMAGE). */
  viewType: string;
}

/** What listShards found: the shards to read, and the streams skipped. */
export interface ShardListing {
  shards: ShardInfo[];
  skipped: SkippedStream[];
}

/** The workflow's position in one shard. */
export interface ShardState {
  stream: string;
  id: string;
  parent?: string;
  /** Sequence number of the last event delivered and applied; undefined: from the shard's start. */
  after?: string;
  /** Read to its end (a closed shard). */
  done: boolean;
}

/** What one read of a shard did. */
export interface ReadResult {
  /** Sequence number of the last event of the batch; undefined when there was none. */
  lastSeq?: string;
  events: number;
  objectKey?: string;
  applied: number;
  deadLettered: number;
  /** The shard has no more records (closed and read to its end, or gone). */
  done: boolean;
  /** Age of the oldest change in this shard not yet applied, ms (0: caught up). */
  lagMs: number;
  /** The checkpoint was older than the stream keeps (24 h): reading went on from the oldest record kept. */
  trimmed: boolean;
}

/** Counts since the consumer started (carried across continue-as-new). */
export interface FeedTotals {
  events: number;
  batches: number;
  applied: number;
  deadLettered: number;
  trimmed: number;
}

/** Everything the workflow carries: positions and counts. */
export interface FeedState {
  shards: ShardState[];
  totals: FeedTotals;
  /** Age of the oldest change not yet applied, ms, at the last read. */
  lagMs: number;
  lastBatchAt?: string;
  /** The table's items were applied once at the first start (items written before its stream existed). */
  snapshot?: SnapshotResult;
  /** Streams of the table not read at the last listing (another view type). */
  skippedStreams?: SkippedStream[];
}

/** Input of the change-feed workflow. */
export interface ChangeFeedInput {
  table: FeedTable;
  settings: FeedSettings;
  /** Carried over by continue-as-new. */
  state?: FeedState;
  /** History events after which the run continues as new (default HISTORY_BUDGET, 2,000; tests use less). */
  historyBudget?: number;
}

/** What the workflow's `feedStatus` query answers. */
export interface FeedStatus extends FeedState {
  table: FeedTable;
}

/** What the snapshot of a table did. */
export interface SnapshotResult {
  /** Items scanned. */
  items: number;
  /** Rows the snapshot wrote (as a repair: missing, deleted or different rows). */
  applied: number;
  /** Items the feed cannot write, not written (the reconcile names them). */
  deadLettered: number;
}

/** Activities of the change feed (src/feed/activities.ts). */
export interface FeedActivities {
  /** The shards to read; an array alone is what a worker before skipped streams returned (histories in flight). */
  listShards(table: FeedTable): Promise<ShardListing | ShardInfo[]>;
  snapshotTable(table: FeedTable): Promise<SnapshotResult>;
  readShard(input: {
    table: FeedTable;
    stream: string;
    shard: string;
    after?: string;
    settings: FeedSettings;
  }): Promise<ReadResult>;
}
