/**
 * The durable consumer of one table's DynamoDB stream (`sales-sync-feed/<table>`): runs for ever,
 * keeping its checkpoint (per shard: the last sequence number delivered and applied) in
 * workflow state and continuing as new with it, so a killed worker or a restarted server
 * resumes where it was. Records never enter its history: the activities read the stream, write
 * the change objects and apply them; the workflow sees positions and counts only.
 *
 * Shards: a shard is read once its parent is read to its end (or the parent is no longer
 * listed: expired), and the shards of an older stream of the table (streams disabled and
 * enabled again) before those of a newer one, so a key's changes are applied in the order
 * DynamoDB made them. Each eligible shard is followed on its own (batch after batch, in parallel
 * with the others) until it ends or a read finds nothing; then the stream is listed again. A
 * closed shard read to its end is done and forgotten once the stream no longer lists it. A
 * stream of another view type than NEW_AND_OLD_IMAGES is not read: listShards reports it, and
 * the details line and `feedStatus` show it.
 */
import {
  type ActivityOptions,
  continueAsNew,
  defineQuery,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
} from '@temporalio/workflow';
import type {
  ChangeFeedInput,
  FeedActivities,
  FeedState,
  FeedStatus,
  ReadResult,
  ShardInfo,
  ShardListing,
  ShardState,
} from '../feed/types.js';
import { historyFull } from './common.js';

/** The consumer's position, counts and lag. */
export const feedStatusQuery = defineQuery<FeedStatus>('feedStatus');

/** Retried for ever (an outage of PostgreSQL, the object store or DynamoDB is waited out), backing off to 10 s. */
const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' } as const;

function activities(settings: ChangeFeedInput['settings']): FeedActivities {
  const list = proxyActivities<FeedActivities>({ startToCloseTimeout: '2m', retry });
  const snapshot = proxyActivities<FeedActivities>({
    startToCloseTimeout: '2h',
    heartbeatTimeout: '60s',
    retry,
  });
  const read = proxyActivities<FeedActivities>({
    // Buffering time, plus the idle wait, plus writing and applying one batch.
    startToCloseTimeout: `${settings.maxSeconds + settings.idleSeconds + 300}s`,
    // A lost worker is noticed within 30 s and the batch is read again from the checkpoint.
    heartbeatTimeout: '30s',
    retry,
  } satisfies ActivityOptions);
  return { listShards: list.listShards, snapshotTable: snapshot.snapshotTable, readShard: read.readShard };
}

/** Merges a fresh listing into the positions: new shards added, done shards no longer listed dropped. */
export function mergeShards(known: ShardState[], listed: ShardInfo[]): ShardState[] {
  const listedIds = new Set(listed.map((s) => s.id));
  const kept = known.filter((s) => listedIds.has(s.id) || !s.done);
  const knownIds = new Set(kept.map((s) => s.id));
  for (const s of listed) {
    if (knownIds.has(s.id)) continue;
    kept.push({ stream: s.stream, id: s.id, ...(s.parent ? { parent: s.parent } : {}), done: false });
  }
  return kept;
}

/** The shards to read now: not done, parent done or unknown, and no older stream with a shard left. */
export function eligibleShards(shards: ShardState[]): ShardState[] {
  const byId = new Map(shards.map((s) => [s.id, s]));
  const streams = [...new Set(shards.map((s) => s.stream))];
  const firstOpenStream = streams.find((st) => shards.some((s) => s.stream === st && !s.done));
  return shards.filter(
    (s) =>
      !s.done &&
      s.stream === firstOpenStream &&
      !(s.parent !== undefined && byId.get(s.parent)?.done === false),
  );
}

function describe(status: FeedStatus): string {
  const t = status.totals;
  const skipped = status.skippedStreams ?? [];
  const views = [...new Set(skipped.map((s) => s.viewType))].join(', ');
  return `${status.table}: ${t.events} changes in ${t.batches} objects, ${t.applied} rows applied, ${t.deadLettered} dead-lettered; lag ${Math.round(status.lagMs / 1000)} s${skipped.length ? `; skipped ${skipped.length} stream${skipped.length > 1 ? 's' : ''} of view type ${views} (not NEW_AND_OLD_IMAGES)` : ''}`;
}

/** A listing as a worker returns it now, from either form (an older worker returned the shards alone). */
function listingOf(listed: ShardListing | ShardInfo[]): ShardListing {
  return Array.isArray(listed) ? { shards: listed, skipped: [] } : listed;
}

/** Consumes one table's stream for ever. */
export async function changeFeedWorkflow(input: ChangeFeedInput): Promise<never> {
  const { table, settings } = input;
  const state: FeedState = input.state ?? {
    shards: [],
    totals: { events: 0, batches: 0, applied: 0, deadLettered: 0, trimmed: 0 },
    lagMs: 0,
  };
  setHandler(feedStatusQuery, () => ({ table, ...state }));
  const acts = activities(settings);
  // First start: the items the table held before its stream (version 0, below every change, so
  // the order of the two does not matter): beside the stream's reading, which it must not hold back.
  let snapshotting: Promise<void> | undefined;
  if (!state.snapshot) {
    if (patched('snapshot-beside-stream'))
      snapshotting = acts.snapshotTable(table).then((r) => {
        state.snapshot = r;
      });
    else state.snapshot = await acts.snapshotTable(table);
  }
  const lags = new Map<string, number>();
  const record = (s: ShardState, r: ReadResult) => {
    if (r.lastSeq) s.after = r.lastSeq;
    if (r.done) s.done = true;
    const t = state.totals;
    t.events += r.events;
    t.applied += r.applied;
    t.deadLettered += r.deadLettered;
    if (r.objectKey) {
      t.batches++;
      state.lastBatchAt = new Date().toISOString();
    }
    if (r.trimmed) t.trimmed++;
    if (r.done) lags.delete(s.id);
    else lags.set(s.id, r.lagMs);
    state.lagMs = Math.max(0, ...lags.values());
    setCurrentDetails(describe({ table, ...state }));
  };
  /** Reads one shard, batch after batch, until it ends or a read finds nothing (the stream is then listed again). */
  const follow = async (s: ShardState): Promise<void> => {
    for (;;) {
      const r = await acts.readShard({
        table,
        stream: s.stream,
        shard: s.id,
        ...(s.after ? { after: s.after } : {}),
        settings,
      });
      record(s, r);
      if (r.done || r.events === 0 || historyFull(input.historyBudget)) return;
    }
  };
  // Each eligible shard is followed on its own, so a quiet shard never holds a busy one back.
  const following = new Map<string, Promise<void>>();
  for (;;) {
    const listing = listingOf(await acts.listShards(table));
    state.shards = mergeShards(state.shards, listing.shards);
    if (listing.skipped.length > 0 || state.skippedStreams) {
      state.skippedStreams = listing.skipped;
      setCurrentDetails(describe({ table, ...state }));
    }
    for (const s of eligibleShards(state.shards)) {
      if (following.has(s.id)) continue;
      following.set(
        s.id,
        follow(s).finally(() => following.delete(s.id)),
      );
    }
    // No stream yet, or nothing readable: look again later.
    if (following.size === 0) await sleep(`${settings.idleSeconds}s`);
    else await Promise.race(following.values());
    // A snapshot still running is not waited for: reading goes on, and the run continues as new after it.
    if (historyFull(input.historyBudget) && (snapshotting === undefined || state.snapshot)) {
      await Promise.all(following.values());
      await continueAsNew<typeof changeFeedWorkflow>({ ...input, state });
    }
  }
}
