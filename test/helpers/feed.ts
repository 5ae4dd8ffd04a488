/**
 * The change feed on real servers for the tests: one PostgreSQL per suite (a fresh database per
 * test, migrated), the feed worker on a fresh task queue, the consumer workflows, and the change
 * objects in the object store.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import type pg from 'pg';
import { type LocalPostgres, startPostgres } from '../../scripts/lib/postgres.js';
import { freePort, localLandingEnv } from '../../scripts/stack.js';
import { workerEnv } from '../../scripts/worker-command.js';
import type { ChangeEvent } from '../../src/feed/events.js';
import { s3ObjectStore } from '../../src/feed/s3-store.js';
import { type ChangeObjectStore, decodeBatch } from '../../src/feed/objects.js';
import type { FeedSettings } from '../../src/feed/types.js';
import { createFeedWorker, feedTaskQueue, startFeedWorkflows } from '../../src/feed/worker.js';
import { copyDifferences } from '../../src/feed/compare.js';
import { waitFor } from '../../scripts/lib/poll.js';
import type { Pipeline, Stack } from './harness.js';
import { freshDatabase } from './pg-database.js';

/** Short buffers, so tests see batches in seconds. */
export const TEST_FEED_SETTINGS: FeedSettings = {
  maxEvents: 500,
  maxBytes: 5 * 1024 * 1024,
  maxSeconds: 1,
  idleSeconds: 2,
};

/** One test's feed: its database, object store, worker and consumers. */
export class Feed {
  worker?: Worker;
  private running?: Promise<void>;
  constructor(
    readonly p: Pipeline,
    readonly pool: pg.Pool,
    readonly url: string,
    readonly objects: ChangeObjectStore,
    readonly suffix: string,
    readonly settings: FeedSettings,
    readonly dynamoEndpoint: string,
  ) {}

  get taskQueue(): string {
    return feedTaskQueue(this.suffix);
  }

  /** Starts the feed worker (in this process) and the consumers. */
  async start(): Promise<void> {
    this.worker = await createFeedWorker({
      connection: this.p.env.nativeConnection,
      namespace: this.p.env.namespace ?? 'default',
      taskQueue: this.taskQueue,
      dynamo: { endpoint: this.dynamoEndpoint, region: 'us-east-1', tablePrefix: '', tableSuffix: '' },
      names: this.p.store.names,
      objects: this.objects,
      prefix: 'changes/',
      pool: this.pool,
      pollMs: 200,
    });
    this.running = this.worker.run();
    await startFeedWorkflows(this.p.env.client, this.taskQueue, this.settings, this.suffix);
  }

  async stopWorker(): Promise<void> {
    this.worker?.shutdown();
    await this.running;
    this.worker = undefined;
  }

  /** Waits until PostgreSQL equals DynamoDB field by field (or fails with the differences). */
  async caughtUp(timeoutMs = 60_000): Promise<void> {
    let last: string[] = [];
    await waitFor(
      'the SQL copy to equal DynamoDB',
      timeoutMs,
      async () => {
        last = await copyDifferences(this.p.store, this.pool);
        return last.length === 0 ? true : undefined;
      },
      500,
      () => `the SQL copy still differs after ${timeoutMs} ms: ${last.slice(0, 5).join('; ')}`,
    );
  }

  /** Every event of every change object, with its object key. */
  async events(): Promise<(ChangeEvent & { object: string })[]> {
    const out: (ChangeEvent & { object: string })[] = [];
    for (const key of await this.objects.list('changes/'))
      for (const e of decodeBatch(await this.objects.get(key))) out.push({ ...e, object: key });
    return out;
  }
}

/** Registers hooks: PostgreSQL for the suite; `feed(p)` makes a test's feed, stopped after the suite. */
export function useFeed(stack: Stack, settings: FeedSettings = TEST_FEED_SETTINGS) {
  let pg: LocalPostgres | undefined;
  const feeds: Feed[] = [];
  before(async () => {
    pg = await startPostgres({ port: await freePort() });
  });
  // Each test's worker stops after it, before the suite's Temporal server does.
  afterEach(async () => {
    for (const f of feeds.splice(0)) {
      await f.stopWorker();
      await f.pool.end();
    }
  });
  after(async () => {
    await pg?.stop();
  });
  return {
    /** Stops PostgreSQL (fast shutdown), waits `downMs`, starts it again on the same port and data. */
    async restartPostgres(downMs: number): Promise<void> {
      if (!pg) throw new Error('PostgreSQL is not started');
      const port = Number(new URL(pg.url).port);
      const { dataDir } = pg;
      await pg.stopKeepingData();
      await new Promise((r) => setTimeout(r, downMs));
      pg = await startPostgres({ port, dataDir, temporary: true });
    },
    /** The environment of a feed process (`npm run feed`) serving `f`'s feed, with `extra` settings. */
    processEnv(f: Feed, extra: Record<string, string>): NodeJS.ProcessEnv {
      return workerEnv({
        TEMPORAL_ADDRESS: stack.env.address,
        PAYLOAD_ENCRYPTION: 'off',
        DYNAMODB_ENDPOINT: stack.dynamo.endpoint,
        TABLE_PREFIX: f.p.store.names.branches.replace(/branches$/, ''),
        TASK_QUEUE_SUFFIX: f.suffix,
        DATABASE_URL: f.url,
        ...localLandingEnv(stack.objects, f.p.landing.bucket),
        ...extra,
      });
    },
    get postgres(): LocalPostgres {
      if (!pg) throw new Error('PostgreSQL is not started');
      return pg;
    },
    async feed(p: Pipeline, opts: { start?: boolean } = {}): Promise<Feed> {
      const { pool, url } = await freshDatabase(pg);
      const suffix = `-${randomUUID().slice(0, 8)}`;
      const f = new Feed(
        p,
        pool,
        url,
        s3ObjectStore(p.landing.s3, p.landing.bucket),
        suffix,
        settings,
        stack.dynamo.endpoint,
      );
      feeds.push(f);
      if (opts.start !== false) await f.start();
      return f;
    },
  };
}

/**
 * What an item says: its content hash, and its void or departure mark (a mark is a change of the
 * item without a change of its content, and the feed carries it like any other).
 */
export function itemState(item: Record<string, unknown> | undefined): string {
  if (!item) return '';
  const marks = ['voided_at', 'left_at']
    .filter((m) => item[m] !== undefined)
    .map((m) => ` ${m}=${String(item[m])}`);
  return `${String(item.content_hash)}${marks.join('')}`;
}

/** itemState of every item, by table and key. */
export async function hashes(p: Pipeline): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const table of ['branches', 'salespersons', 'sales'] as const)
    for (const item of await p.store.scanAll(table)) {
      const key = Object.entries(item)
        .filter(
          ([k]) =>
            ['branch_id', 'employee_id', 'sale_id'].includes(k) && !(table === 'sales' && k === 'branch_id'),
        )
        .filter(([k]) => table !== 'branches' || k === 'branch_id')
        .sort()
        .map(([k, v]) => `${k}=${String(v)}`)
        .join('|');
      out.set(`${table}:${key}`, itemState(item));
    }
  return out;
}

/** Asserts no change appears in two objects (a retried batch overwrote, it did not add). */
export function assertNoDuplicates(events: { shard: string; seq: string; object: string }[]): void {
  const seen = new Map<string, string>();
  for (const e of events) {
    const id = `${e.shard}/${e.seq}`;
    assert.ok(!seen.has(id), `change ${id} is in ${seen.get(id)} and ${e.object}`);
    seen.set(id, e.object);
  }
}
