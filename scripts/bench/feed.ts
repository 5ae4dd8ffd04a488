/**
 * The benchmark's change feed: PostgreSQL (temporary) and the feed service as its own process
 * (`src/feed/service.ts`, what `npm run feed` runs), with the default FEED_* settings unless the
 * environment sets them. The feed process starts once the first run has finished, so the first
 * run's changes are a backlog: draining it measures the consumer's throughput. It runs during the
 * later runs: their changes measure the freshness, from the DynamoDB write (the item's
 * `synced_at`) to the PostgreSQL row (`applied_at`), p50 and p95. After each run the copy must
 * equal DynamoDB field by field, and the change events must be the items the run changed.
 */
import type { ChildProcess } from 'node:child_process';
import { startPostgres } from '../lib/postgres.js';
import { spawnWorker } from '../worker-command.js';
import { freePort, stopChild } from '../stack.js';
import { waitFor } from '../lib/poll.js';
import type { StopList } from '../lib/stop-list.js';
import { decodeBatch } from '../../src/feed/objects.js';
import { s3ObjectStore } from '../../src/feed/s3-store.js';
import { loadFeedConfig } from '../../src/config/feed.js';
import { copyDifferences } from '../../src/feed/compare.js';
import { createPool, migrate } from '../../src/sql/db.js';
import { Store } from '../../src/store/index.js';
import type { RunContext } from './run.js';
import type { Target } from './report.js';
import type { RunKind } from './settings.js';

/** What the feed did around one run. */
export interface FeedRunResult {
  kind: RunKind;
  /** Change events the run produced (in the change objects). */
  events: number;
  /** Items the run changed (content hash differs from before, or new). */
  itemsChanged: number;
  /** The copy equalled DynamoDB field by field after the run. */
  copyEqual: boolean;
  /** Seconds from the end of the run until the copy equalled DynamoDB. */
  caughtUpAfterS: number;
  /** DynamoDB write -> PostgreSQL row, ms, over the rows this run changed (live runs). */
  freshnessMs?: { p50: number; p95: number; max: number; rows: number };
  /** Backlog drain (the first run): changes applied per second between the first and last batch. */
  throughput?: { events: number; seconds: number; perSecond: number; batches: number };
}

/** The feed of a benchmark: start it, and measure around each run. */
export async function startBenchFeed(ctx: RunContext, env: NodeJS.ProcessEnv, stops: StopList) {
  const pg = await startPostgres({ port: await freePort() });
  stops.add('postgresql', () => pg.stop());
  const pool = createPool(pg.url);
  stops.add('postgresql pool', () => pool.end());
  await migrate(pool);
  const landing = ctx.landing;
  if (!landing) throw new Error('the change feed needs the landing zone (not --no-landing)');
  const objects = s3ObjectStore(landing.zone.s3, landing.zone.bucket);
  const store = new Store(ctx.clients, ctx.names);
  const settings = loadFeedConfig(env).settings;
  let child: ChildProcess | undefined;
  let seen = new Set<string>();

  const events = async () => {
    const out: string[] = [];
    for (const key of await objects.list('changes/'))
      for (const e of decodeBatch(await objects.get(key))) out.push(`${e.shard}/${e.seq}`);
    return out;
  };

  return {
    settings,
    url: pg.url,
    /** Starts the feed process (after the first run: its changes are the backlog). */
    start(): void {
      // No metrics endpoint: the benchmark reads its own figures (and a worker may hold METRICS_PORT).
      child = spawnWorker('src/feed/service.ts', { ...env, DATABASE_URL: pg.url, METRICS_PORT: 'off' }, [
        'ignore',
        'ignore',
        'inherit',
      ]);
      const c = child;
      stops.add('feed process', () => stopChild(c, 20_000));
    },
    get running(): boolean {
      return child !== undefined;
    },
    /** Waits for the copy to equal DynamoDB after a run, and measures (see the module comment). */
    async afterRun(
      kind: RunKind,
      runStartedAt: Date,
      runEndedAt: number,
      itemsChanged: number,
    ): Promise<FeedRunResult> {
      let copyEqual = true;
      await waitFor('the SQL copy to equal DynamoDB', 600_000, async () =>
        (await copyDifferences(store, pool, 1)).length === 0 ? true : undefined,
      ).catch(() => (copyEqual = false));
      const caughtUpAfterS = (Date.now() - runEndedAt) / 1000;
      // The copy can equal DynamoDB before the stream is drained (the consumer's first start loads
      // the tables as they are), so a run's events are counted only once no change object has been
      // added for one buffer period: by then every event of the run (and any that should not
      // exist) has been written.
      await settled(() => objects.list('changes/'), (settings.maxSeconds + 2) * 1000);
      const all = await events();
      const fresh = all.filter((id) => !seen.has(id));
      seen = new Set(all);
      const result: FeedRunResult = { kind, events: fresh.length, itemsChanged, copyEqual, caughtUpAfterS };
      if (kind === 'first') result.throughput = await backlogThroughput(pool);
      else if (fresh.length > 0) result.freshnessMs = await freshness(pool, runStartedAt);
      return result;
    },
  };
}

type Pool = ReturnType<typeof createPool>;

/** The backlog's drain: change events applied per second between the first and the last batch. */
async function backlogThroughput(pool: Pool): Promise<FeedRunResult['throughput']> {
  const { rows } = await pool.query<{ events: string; batches: string; seconds: string }>(
    `SELECT sum(events) AS events, count(*) AS batches,
            extract(epoch FROM max(applied_at) - min(applied_at)) AS seconds
     FROM feed_batches WHERE shard_id <> 'snapshot'`,
  );
  const r = rows[0];
  const seconds = Number(r?.seconds ?? 0);
  return {
    events: Number(r?.events ?? 0),
    batches: Number(r?.batches ?? 0),
    seconds,
    perSecond: seconds > 0 ? Number(r?.events ?? 0) / seconds : 0,
  };
}

/** DynamoDB write -> PostgreSQL row over the rows written since `since`; undefined when none. */
async function freshness(pool: Pool, since: Date): Promise<FeedRunResult['freshnessMs']> {
  const { rows } = await pool.query<{ p50: string; p95: string; max: string; rows: string }>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) AS p95,
            max(ms) AS max, count(*) AS rows
     FROM (SELECT extract(epoch FROM applied_at - written_at) * 1000 AS ms FROM branches WHERE written_at >= $1
           UNION ALL SELECT extract(epoch FROM applied_at - written_at) * 1000 FROM salespersons WHERE written_at >= $1
           UNION ALL SELECT extract(epoch FROM applied_at - written_at) * 1000 FROM sales WHERE written_at >= $1) f`,
    [since],
  );
  const r = rows[0];
  if (!r || Number(r.rows) === 0) return undefined;
  return { p50: Number(r.p50), p95: Number(r.p95), max: Number(r.max), rows: Number(r.rows) };
}

/** Resolves once `list` has returned the same number of keys for `quietMs` (at most 10 minutes). */
async function settled(list: () => Promise<string[]>, quietMs: number): Promise<void> {
  let count = -1;
  let since = Date.now();
  await waitFor(
    'the change objects to stop growing',
    600_000,
    async () => {
      const n = (await list()).length;
      if (n !== count) [count, since] = [n, Date.now()];
      return Date.now() - since >= quietMs ? true : undefined;
    },
    1000,
  );
}

/** The feed's targets: the copy equals DynamoDB after every run, and the events are exactly the changed items. */
export function feedTargets(results: FeedRunResult[]): Target[] {
  return results.map((r) => ({
    name: `${r.kind} run: change events = items changed, SQL copy = DynamoDB`,
    pass: r.copyEqual && r.events === r.itemsChanged,
    detail: `${r.events} events, ${r.itemsChanged} changed, copy ${r.copyEqual ? 'equal' : 'DIFFERS'}`,
  }));
}

/** Lines of the feed's section of the report. */
export function feedReport(
  results: FeedRunResult[],
  settings: { maxEvents: number; maxBytes: number; maxSeconds: number },
): string[] {
  const lines = [
    `buffering: ${settings.maxEvents} events, ${settings.maxBytes} bytes or ${settings.maxSeconds} s (FEED_BATCH_*)`,
  ];
  for (const r of results) {
    const parts = [
      `${r.kind}: ${r.events} change events for ${r.itemsChanged} changed items`,
      r.copyEqual
        ? `copy equal to DynamoDB ${r.caughtUpAfterS.toFixed(1)} s after the run`
        : 'COPY DIFFERS from DynamoDB',
    ];
    if (r.throughput)
      parts.push(
        `backlog drained at ${r.throughput.perSecond.toFixed(0)} changes/s (${r.throughput.events} in ${r.throughput.batches} batches over ${r.throughput.seconds.toFixed(1)} s)`,
      );
    if (r.freshnessMs)
      parts.push(
        `freshness DynamoDB write -> PostgreSQL row p50 ${(r.freshnessMs.p50 / 1000).toFixed(1)} s, p95 ${(r.freshnessMs.p95 / 1000).toFixed(1)} s, max ${(r.freshnessMs.max / 1000).toFixed(1)} s over ${r.freshnessMs.rows} rows`,
      );
    lines.push(parts.join('; '));
  }
  return lines;
}
