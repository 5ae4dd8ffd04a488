/**
 * The raw landing zone and replay, on real servers: versitygw (the S3-compatible object
 * server setup builds), DynamoDB Local, Temporal (time-skipping, and the dev server where the
 * object server is stopped mid-run), the simulator and a scripted contract server.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startObjectServer } from '../scripts/stack.js';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { LookupBranchOutput } from '../src/activities/index.js';
import { startReplay } from '../src/client.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import type { SyncSummary } from '../src/shared/summary.js';
import { type Landing, type LandedDocument, checkLandingBucket } from '../src/landing/index.js';
import { ConfigError } from '../src/shared/errors.js';
import { type Store, keyNamesOf } from '../src/store/index.js';
import { SYNCED_TABLES, type SyncedTable } from '../src/shared/tables.js';
import { type VendorAnswer, type VendorPage, VendorClient } from '../src/vendor-api/client.js';
import { type Pipeline, SIM_KEY, freshStore, useStack } from './helpers/harness.js';
import { oneBranch, saleText, send, useScriptedVendors } from './helpers/scripted-vendor.js';
import { assertTablesMatch, expectedTables } from './helpers/truth.js';

/** Every landed object: key, size and document. */
async function landed(landing: Landing): Promise<{ key: string; doc: LandedDocument; raw: string }[]> {
  const out = [];
  for (const { key } of await landing.keys('raw/')) {
    const got = await landing.s3.send(new GetObjectCommand({ Bucket: landing.bucket, Key: key }));
    const raw = gunzipSync(await got.Body!.transformToByteArray()).toString('utf8');
    out.push({ key, raw, doc: JSON.parse(raw) as LandedDocument });
  }
  return out;
}

/** A table's items by key, without the attributes that say which run wrote them. */
async function contents(store: Store, table: SyncedTable): Promise<Map<string, unknown>> {
  const keys = keyNamesOf(table);
  const out = new Map<string, unknown>();
  for (const item of await store.scanAll(table)) {
    const { synced_at: _a, synced_by: _b, synced_run: _c, ...rest } = item;
    out.set(keys.map((k) => String(item[k])).join('|'), rest);
  }
  return out;
}

async function assertSameTables(a: Store, b: Store): Promise<void> {
  for (const t of SYNCED_TABLES) {
    const [x, y] = [await contents(a, t), await contents(b, t)];
    assert.ok(x.size > 0, `${t} is not empty`);
    assert.deepEqual(y, x, `${t}: the replayed table equals the original field by field`);
  }
}

/**
 * A release whose reading of an answer was loosened: a sale's amount with a decimal comma
 * ("12,50") is read as the amount with a decimal point. A replay runs what the workers run now.
 */
class CommaAmountReader extends VendorClient {
  override read(answer: VendorAnswer): VendorPage {
    const page = super.read(answer);
    const fixed = (r: unknown): unknown => {
      const amount = (r as { amount?: unknown } | null)?.amount;
      return typeof amount === 'string'
        ? { ...(r as object), amount: amount.replace(/^(-?\d+),(\d+)$/, '$1.$2') }
        : r;
    };
    return { ...page, records: page.records.map(fixed) };
  }
}

/** Runs the replay of `source` the way the CLI does, and waits for its summary. */
async function replay(p: Pipeline, source: string, dryRun = false): Promise<SyncSummary> {
  // No feed runs here: no sync_runs row to wait for.
  const { handle } = await startReplay(p.env.client, p.queues, { run: source, dryRun, feedTaskQueue: null });
  return handle.result();
}

describe('replay from the landing zone (time-skipping server, versitygw, DynamoDB Local)', function () {
  this.timeout(240_000);
  const stack = useStack('time-skipping', { seed: 41, employeesPerBranch: 4, salesPerSalesperson: 9 });
  const scripted = useScriptedVendors(stack);

  it('a replay after the reading of answers was loosened stores the records the run set aside, from the landed answers', async () => {
    const comma = saleText('2').replace('"12.50"', '"12,50"');
    const { vendor, p } = await scripted(oneBranch('7', '42', [saleText('1'), comma]), SIM_KEY);
    const run = await p.withWorkers(() => p.run({ branches: ['Akron'], window: 'full' }));
    assert.ok(run.ok, run.ok ? '' : run.message);
    assert.equal(run.summary.counts.sales.setAside, 1, 'the comma amount is set aside by the current rule');
    const [row] = await p.store.scanAll('quarantine');
    assert.ok(row && typeof row.landed_object === 'string', 'the quarantine row names the landed answer');
    assert.ok(
      (await landed(p.landing)).some((o) => o.key === row.landed_object && o.doc.body?.includes('12,50')),
    );

    // The next release reads a decimal comma as a decimal point; the replay runs on it.
    const nextRelease = new CommaAmountReader({ url: p.vendorUrl, apiKey: SIM_KEY, timeoutMs: 5000 });
    const asked = vendor.requests.length;
    const summary = await p.withWorkers(() => replay(p, run.workflowId), 50, {}, { vendor: nextRelease });
    assert.equal(vendor.requests.length, asked, 'zero vendor requests');
    assert.equal(summary.counts.sales.setAside, 0);
    assert.equal(summary.counts.sales.inserted, 1, 'the set-aside sale is stored now');
    assert.equal(summary.counts.sales.unchanged, 1);
    const stored = (await p.store.scanAll('sales')).find((s) => String(s.sale_id) === '2');
    assert.equal(stored?.amount, '12.50');
  });
});

describe('landing zone across an upgrade (MockActivityEnvironment, versitygw, DynamoDB Local)', function () {
  this.timeout(60_000);
  const stack = useStack('time-skipping');

  it('an activity of a workflow started before the landing zone existed (no landing in its input) still lands its answer, under its own workflow ID', async () => {
    const p = await stack.pipeline();
    const acts = p.activities();
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'old-run', runId: 'r-1' } });
    const legacyInput = { name: 'Scranton' } as Parameters<typeof acts.lookupBranch>[0];
    const out: LookupBranchOutput = await env.run(acts.lookupBranch, legacyInput);
    assert.ok(out.branch);
    const keys = (await p.landing.keys('raw/')).map((k) => k.key);
    assert.equal(keys.length, 1);
    const activityId = encodeURIComponent(env.context.info.activityId);
    assert.match(
      keys[0] ?? '',
      new RegExp(`^raw/branches/unscoped/old-run/[0-9a-f]{24}-r-1-${activityId}-1\\.json\\.gz$`),
    );
  });

  it('a worker refuses to start on a landing bucket that does not exist, naming LANDING_BUCKET and what to do', async () => {
    const p = await stack.pipeline();
    await checkLandingBucket(p.landing.s3, p.landing.bucket);
    await assert.rejects(
      checkLandingBucket(p.landing.s3, 'no-such-bucket'),
      (err: Error) =>
        err instanceof ConfigError &&
        /LANDING_BUCKET=no-such-bucket cannot be used \(it does not exist\): create it, check S3_ENDPOINT/.test(
          err.message,
        ),
    );
  });
});

describe('landing zone at the pace of the vendor (dev server, versitygw, DynamoDB Local)', function () {
  this.timeout(300_000);
  const stack = useStack('dev-server', {
    seed: 43,
    employeesPerBranch: 4,
    salesPerSalesperson: 9,
    latencyMs: 20,
  });
  const scriptedHere = useScriptedVendors(stack);

  it('lands exactly one object per answer received (every attempt under its own key, 429s and 5xx included), none holding the key; a replay into empty tables rebuilds them field by field with zero vendor requests', async () => {
    // A vendor quota below the pipeline's rate: 429s; and 5xx, HTML and truncated bodies.
    // Quota 4 against a pipeline paced for 12: 429s however slowly a loaded machine runs it.
    const p = await stack.pipeline({ quota: 4 }, { quotaRps: 12 });
    p.sim.setFaults({ error5xx: 0.05, html: 0.03, nonJson: 0.03 });
    const run = await p.withWorkers(() => p.run({ window: 'full' }), 5);
    assert.ok(run.ok, run.ok ? '' : run.message);
    await assertTablesMatch(p.store, expectedTables(p.sim.dataset, DEFAULT_BRANCHES));

    const c = p.sim.counters();
    const answers = Object.values(c.byStatus).reduce((a, b) => a + b, 0);
    const objects = await landed(p.landing);
    assert.ok(c.throttled429 > 0 && c.faultsInjected.error5xx > 0, 'the vendor answered 429 and 5xx');
    assert.equal(objects.length, answers, 'one object per answer the vendor sent');
    assert.equal(new Set(objects.map((o) => o.key)).size, objects.length);
    const byStatus: Record<number, number> = {};
    for (const o of objects) byStatus[o.doc.status] = (byStatus[o.doc.status] ?? 0) + 1;
    assert.deepEqual(byStatus, c.byStatus, 'the landed statuses are the statuses sent');
    assert.ok(
      objects.some((o) => o.doc.caller.attempt > 1),
      'retried attempts landed under their own keys',
    );
    for (const o of objects) {
      assert.ok(!o.raw.includes(SIM_KEY), `${o.key} holds no API key`);
      assert.ok(o.key.startsWith(`raw/${o.doc.request.path.slice(1)}/full-`), o.key);
      assert.ok(o.key.includes(`/${encodeURIComponent(run.workflowId)}/`), o.key);
      const { runId, activityId, attempt } = o.doc.caller;
      assert.ok(o.key.endsWith(`-${runId}-${encodeURIComponent(activityId)}-${attempt}.json.gz`), o.key);
    }
    // Bodies that could not be read landed too, and their quarantine rows name the object.
    const bodies = (await p.store.scanAll('quarantine')).filter((q) => q.kind === 'body');
    assert.ok(bodies.length > 0, 'unreadable bodies were set aside');
    for (const q of bodies) {
      const o = objects.find((x) => x.key === q.landed_object);
      assert.ok(o, `quarantine row names a landed object (${String(q.landed_object)})`);
      assert.equal(o.doc.body, q.raw, 'the object holds the body that was set aside');
    }

    // Replay into empty tables: the same rows, and the vendor is not asked anything.
    const empty = await freshStore(stack.dynamo);
    p.sim.resetCounters();
    const dry = await p.withWorkers(() => replay(p, run.workflowId, true), 5, {}, { store: empty });
    assert.equal(p.sim.counters().total, 0, 'a dry run asks the vendor nothing');
    assert.equal(
      dry.counts.sales.inserted,
      run.summary.counts.sales.inserted,
      'a dry run counts what it would insert',
    );
    assert.equal((await empty.scanAll('sales')).length, 0, 'a dry run writes nothing');
    const summary = await p.withWorkers(() => replay(p, run.workflowId), 5, {}, { store: empty });
    assert.equal(p.sim.counters().total, 0, 'a replay makes zero vendor requests');
    assert.equal(summary.branchesSynced, run.summary.branchesSynced);
    assert.deepEqual(
      Object.fromEntries(Object.entries(summary.counts).map(([t, k]) => [t, k.inserted])),
      Object.fromEntries(Object.entries(run.summary.counts).map(([t, k]) => [t, k.inserted + k.updated])),
      'the replay inserts what the run stored',
    );
    await assertSameTables(p.store, empty);
    assert.equal((await landed(p.landing)).length, objects.length, 'a replay lands nothing new');
  });

  it('a replay of a run that landed nothing says so and asks nobody', async () => {
    const { vendor, p } = await scriptedHere(oneBranch('7', '42', [saleText('1')]), SIM_KEY, (req, res) =>
      req.path === '/branches' ? send(res, 200, '{"result":[]}') : false,
    );
    const run = await p.withWorkers(() => p.run({ branches: ['Akron'] }));
    assert.ok(run.ok);
    const asked = vendor.requests.length;
    // Another landing zone (an empty bucket) holds nothing of that run.
    const other = await stack.pipeline();
    const err = await p
      .withWorkers(() => replay(p, run.workflowId), 50, {}, { landing: other.landing })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    assert.ok(err, 'the replay failed');
    const messages: string[] = [];
    for (let e: unknown = err; e instanceof Error; e = e.cause) messages.push(e.message);
    assert.match(messages.join(' <- '), /nothing landed for run/);
    assert.equal(vendor.requests.length, asked);
  });
  let again: Awaited<ReturnType<typeof startObjectServer>> | undefined;
  after(() => again?.stop());

  it('the object server stopped and restarted mid-run loses nothing: the run completes, and its replay rebuilds the same tables', async () => {
    const p = await stack.pipeline({ quota: 30 });
    const objects = stack.objects;
    const port = Number(new URL(objects.endpoint).port);
    const run = await p.withWorkers(async () => {
      const running = p.run({ window: 'full' });
      // Once answers are landing, kill the object server, and start it again 4 s later.
      for (let i = 0; i < 300 && (await p.landing.keys('raw/sales/')).length < 5; i++)
        await new Promise((r) => setTimeout(r, 100));
      const exited = once(objects.child, 'exit');
      objects.child.kill('SIGKILL');
      await exited;
      await new Promise((r) => setTimeout(r, 4000));
      again = await startObjectServer({ port, dataDir: objects.dataDir });
      return running;
    }, 5);
    assert.ok(again, 'the object server was restarted');
    assert.ok(run.ok, run.ok ? '' : run.message);
    await assertTablesMatch(p.store, expectedTables(p.sim.dataset, DEFAULT_BRANCHES));
    // Every record stored came from an answer that landed: the replay rebuilds the same tables.
    const empty = await freshStore(stack.dynamo);
    p.sim.resetCounters();
    const summary = await p.withWorkers(() => replay(p, run.workflowId), 5, {}, { store: empty });
    assert.equal(p.sim.counters().total, 0);
    assert.equal(summary.failedBranches.length, 0);
    await assertSameTables(p.store, empty);
  });
});
