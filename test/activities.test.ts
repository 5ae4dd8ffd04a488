/**
 * Activities alone, with MockActivityEnvironment, against the real simulator and DynamoDB
 * Local: paging, validation and set-aside, and the classification of every vendor error
 * into the retry decision Temporal acts on.
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { DynamoLocal } from '../scripts/stack.js';
import {
  MIN_RATE_LIMIT_DELAY_MS,
  createActivities,
  type SyncSalesPageOutput,
} from '../src/activities/index.js';
import { VendorSimulator, type SimOptions } from '../src/sim/index.js';
import { VendorClient } from '../src/vendor-api/client.js';
import { validateRecords } from '../src/vendor-api/validate.js';
import { LIVE, SIM_KEY, freshStore, startDynamo, stateOf } from './helpers/harness.js';

/** The activities log their failures; these tests cause failures on purpose. */
const quiet = new DefaultLogger('ERROR');

describe('activities (MockActivityEnvironment, simulator, DynamoDB Local)', function () {
  this.timeout(60_000);
  let dynamo: DynamoLocal;
  const sims: VendorSimulator[] = [];
  before(async () => {
    dynamo = await startDynamo();
  });
  after(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    await dynamo?.stop();
  });

  async function setup(sim: Partial<SimOptions> = {}, pageSize = 5, timeoutMs = 2000) {
    const simulator = await VendorSimulator.start({ apiKeys: [SIM_KEY], quota: 0, seed: 21, ...sim });
    sims.push(simulator);
    const store = await freshStore(dynamo);
    const vendor = new VendorClient({ url: simulator.url, apiKey: SIM_KEY, timeoutMs });
    const acts = createActivities({ vendor, store, pageSize, landing: null, state: stateOf(store) });
    const env = new MockActivityEnvironment(
      { workflowExecution: { workflowId: 'wf-test', runId: 'run-test' } },
      { logger: quiet },
    );
    const firstSalesperson = () => {
      const b = simulator.dataset.branches[0];
      const sp = b && simulator.dataset.salespersonsOf(b.id)[0];
      assert.ok(b && sp);
      return { branchId: String(b.id), employeeId: String(sp.id), ids: { branch: b.id, employee: sp.id } };
    };
    return { simulator, store, acts, env, firstSalesperson };
  }

  async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }

  it('pages through a salesperson with the vendor cursor until the last page', async () => {
    const { simulator, store, acts, env, firstSalesperson } = await setup({ salesPerSalesperson: 12 });
    const { branchId, employeeId } = firstSalesperson();
    let token: string | null = null;
    let pages = 0;
    let fetched = 0;
    do {
      const out: SyncSalesPageOutput = await env.run(acts.syncSalesPage, {
        landing: LIVE,
        employeeId,
        branchId,
        window: null,
        pageToken: token,
      });
      token = out.nextPageToken;
      pages++;
      fetched += out.counts.sales?.fetched ?? 0;
    } while (token !== null);
    assert.equal(pages, 3, '12 sales at page size 5');
    assert.equal(fetched, 12);
    assert.equal(simulator.counters().requests['/sales'], 3, 'one request per activity call');
    const stored = await store.scanAll('sales');
    assert.deepEqual(
      stored.map((s) => Number(s.sale_id)).sort(),
      (simulator.dataset.salesBySalesperson.get(Number(employeeId)) ?? []).map((s) => s.id).sort(),
    );
    assert.ok(stored.every((s) => s.branch_id === String(branchId) && s.synced_by === 'wf-test'));
  });

  it('filters sales to the window itself, whatever the server returned', async () => {
    const { simulator, acts, env, firstSalesperson } = await setup({ salesPerSalesperson: 40 }, 500);
    const { branchId, employeeId } = firstSalesperson();
    const all = (simulator.dataset.salesBySalesperson.get(Number(employeeId)) ?? [])
      .map((s) => s.transaction_timestamp)
      .sort();
    const mid = all[20];
    assert.ok(mid);
    const window = { from: '2000-01-01T00:00:00.000Z', to: `${mid.replace(' ', 'T')}.000Z` };
    const out: SyncSalesPageOutput = await env.run(acts.syncSalesPage, {
      landing: LIVE,
      employeeId,
      branchId,
      window,
      pageToken: null,
    });
    assert.equal(out.counts.sales?.fetched, all.filter((t) => t < mid).length);
  });

  it('sets bad records aside in the quarantine table with reason, raw fragment, request and run; stores the good ones', async () => {
    const { simulator, store, acts, env, firstSalesperson } = await setup({ salesPerSalesperson: 10 }, 500);
    const { branchId, employeeId } = firstSalesperson();
    simulator.setBadRecordKinds(['missingId', 'badTimestamp', 'stringNumber']);
    simulator.setFaults({ badRecord: 0.5 });
    const out: SyncSalesPageOutput = await env.run(acts.syncSalesPage, {
      landing: LIVE,
      employeeId,
      branchId,
      window: null,
      pageToken: null,
    });
    const injected = simulator.injectedBadRecords();
    assert.ok(injected.length > 0 && injected.length < 10, `${injected.length} bad records injected`);
    assert.equal(out.counts.sales?.setAside, injected.length);
    assert.equal(out.counts.sales?.inserted, 10 - injected.length);
    const quarantined = await store.scanAll('quarantine');
    assert.equal(quarantined.length, injected.length);
    for (const q of quarantined) {
      assert.equal(q.kind, 'sale');
      assert.match(String(q.reason), /invalid sale: /);
      assert.match(String(q.request), new RegExp(`^/sales\\?salespersonsID=${employeeId}`));
      assert.equal(q.synced_by, 'wf-test');
      assert.doesNotThrow(() => JSON.parse(String(q.raw)));
    }
    const stored = new Set((await store.scanAll('sales')).map((s) => Number(s.sale_id)));
    for (const bad of injected)
      assert.ok(!stored.has(bad.originalId), `corrupted sale ${bad.originalId} not stored`);
  });

  it('sets aside every copy of an id that appears twice with different content; keeps one of exact copies', () => {
    const sale = {
      id: 1,
      transaction_timestamp: '2026-01-01 10:00:00',
      amount: '1.00',
      product: 'p',
      quantity: 1,
      customer: 'c',
    };
    const r1 = validateRecords('sale', [sale, { ...sale, amount: '2.00' }, { ...sale, id: 2 }], '/sales');
    assert.deepEqual(
      r1.good.map((s) => s.id),
      [2],
    );
    assert.equal(r1.bad.length, 2);
    assert.match(r1.bad[0]?.reason ?? '', /duplicate sale id 1 .*different content/);
    const r2 = validateRecords('sale', [sale, { ...sale }], '/sales');
    assert.equal(r2.good.length, 1);
    assert.equal(r2.bad.length, 1);
  });

  for (const mode of ['zero', 'fractional', 'absent', 'seconds'] as const) {
    it(`classifies 429 (Retry-After ${mode}) as retryable with a next retry delay of at least ${MIN_RATE_LIMIT_DELAY_MS} ms`, async () => {
      const { simulator, acts, env } = await setup({ quota: 1, retryAfterMode: mode });
      await env.run(acts.lookupBranch, { landing: LIVE, name: 'Akron' });
      const f = await failureOf(env.run(acts.lookupBranch, { landing: LIVE, name: 'Akron' }));
      assert.equal(f.type, 'VendorRateLimited');
      assert.equal(f.nonRetryable, false);
      const delay = Number(f.nextRetryDelay);
      assert.ok(delay >= MIN_RATE_LIMIT_DELAY_MS, `delay ${delay}`);
      assert.equal(simulator.counters().throttled429, 1);
    });
  }

  it('classifies 404 as non-retryable, naming the request', async () => {
    const { acts, env } = await setup();
    const f = await failureOf(
      env.run(acts.syncEmployeesPage, { landing: LIVE, branchId: '999999', pageToken: null }),
    );
    assert.equal(f.type, 'VendorRequestRejected');
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /404 on \/employees\?branchID=999999/);
  });

  it('classifies a wrong key (401) as non-retryable and says which setting to check, without the key', async () => {
    const { simulator, store } = await setup();
    const acts = createActivities({
      vendor: new VendorClient({ url: simulator.url, apiKey: 'wrong-secret-123', timeoutMs: 2000 }),
      store,
      pageSize: 5,
      landing: null,
      state: stateOf(store),
    });
    const f = await failureOf(
      new MockActivityEnvironment({}, { logger: quiet }).run(acts.lookupBranch, {
        landing: LIVE,
        name: 'Akron',
      }),
    );
    assert.equal(f.nonRetryable, true);
    assert.match(f.message, /VENDOR_API_KEY/);
    assert.doesNotMatch(f.message, /wrong-secret-123/);
  });

  it('classifies 5xx, dropped connections and timeouts as retryable', async () => {
    const { simulator, acts, env } = await setup({ slowMs: 3000 }, 5, 500);
    simulator.setFaults({ error5xx: 1 });
    assert.equal(
      (await failureOf(env.run(acts.lookupBranch, { landing: LIVE, name: 'Akron' }))).type,
      'VendorServerError',
    );
    simulator.setFaults({ error5xx: 0, drop: 1 });
    const dropped = await failureOf(env.run(acts.lookupBranch, { landing: LIVE, name: 'Akron' }));
    assert.equal(dropped.type, 'VendorUnavailable');
    assert.equal(dropped.nonRetryable, false);
    simulator.setFaults({ drop: 0, slow: 1 });
    const slow = await failureOf(env.run(acts.lookupBranch, { landing: LIVE, name: 'Akron' }));
    assert.equal(slow.type, 'VendorUnavailable');
    assert.match(slow.message, /within 500 ms/);
  });

  it('classifies an HTML or truncated body under 200 as retryable and sets the body aside', async () => {
    const { simulator, store, acts, env } = await setup();
    simulator.setFaults({ html: 1 });
    const html = await failureOf(env.run(acts.lookupBranch, { landing: LIVE, name: 'Akron' }));
    assert.equal(html.type, 'VendorBadBody');
    assert.equal(html.nonRetryable, false);
    simulator.setFaults({ html: 0, nonJson: 1 });
    assert.equal(
      (await failureOf(env.run(acts.lookupBranch, { landing: LIVE, name: 'Akron' }))).type,
      'VendorBadBody',
    );
    const q = await store.scanAll('quarantine');
    assert.equal(q.length, 2);
    assert.ok(q.some((e) => /<html/i.test(String(e.raw))));
    assert.ok(q.every((e) => e.kind === 'body' && e.request === '/branches?branch=Akron'));
  });
});
