/**
 * Whatever the vendor answers, one activity attempt stores every good record exactly, sets
 * every bad one aside with its reason, and keeps the key at home. Activities run alone
 * (MockActivityEnvironment) against DynamoDB Local and a scripted server of the contract that
 * is not the simulator, so the bodies are exactly the bytes under test.
 */
import assert from 'node:assert/strict';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { DynamoLocal } from '../scripts/stack.js';
import { createActivities, type SyncSalesPageOutput } from '../src/activities/index.js';
import { ExactNumber } from '../src/shared/exact-json.js';
import type { Store } from '../src/store/index.js';
import { upsertIfChanged } from '../src/store/upsert.js';
import { VendorClient } from '../src/vendor-api/client.js';
import { LIVE, SIM_KEY, freshStore, startDynamo, stateOf } from './helpers/harness.js';
import { type Handler, ScriptedVendor, oneBranch, saleText, send } from './helpers/scripted-vendor.js';

const quiet = new DefaultLogger('ERROR');
const BRANCH = '7';
const SP = '42';

describe('vendor answers, one attempt at a time (scripted vendor, DynamoDB Local)', function () {
  this.timeout(60_000);
  let dynamo: DynamoLocal;
  const vendors: ScriptedVendor[] = [];
  before(async () => {
    dynamo = await startDynamo();
  });
  after(async () => {
    await Promise.all(vendors.map((v) => v.stop()));
    await dynamo?.stop();
  });

  async function setup(sales: string[], handler?: Handler, timeoutMs = 3000, salesperson = SP) {
    const vendor = await ScriptedVendor.start(oneBranch(BRANCH, salesperson, sales), SIM_KEY, handler);
    vendors.push(vendor);
    const store = await freshStore(dynamo);
    const client = new VendorClient({ url: vendor.url, apiKey: SIM_KEY, timeoutMs });
    const acts = createActivities({
      vendor: client,
      store,
      pageSize: 100,
      landing: null,
      state: stateOf(store),
    });
    const env = new MockActivityEnvironment(
      { workflowExecution: { workflowId: 'wf-test', runId: 'run-test' } },
      { logger: quiet },
    );
    const syncSales = (
      window: { from: string; to: string } | null = null,
      employeeId = salesperson,
    ): Promise<SyncSalesPageOutput> =>
      env.run(acts.syncSalesPage, { landing: LIVE, employeeId, branchId: BRANCH, window, pageToken: null });
    return { vendor, store, acts, env, syncSales };
  }

  async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }

  async function quarantineReasons(store: Store): Promise<string[]> {
    return (await store.scanAll('quarantine')).map((q) => String(q.reason));
  }

  it('stores each record DynamoDB can hold exactly and sets aside the ones it cannot, in one attempt', async () => {
    const deep = `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`;
    const { vendor, store, syncSales } = await setup([
      saleText('1', '"ean":12345678901234567890'),
      saleText('2', '"weight":1e400'),
      saleText('3', '"ratio":1.234567890123456789012345678901234567890'),
      saleText('4', `"nested":${deep}`),
      saleText('5', `"blob":"${'x'.repeat(410 * 1024)}"`),
      saleText('6', '"":"empty name"'),
      saleText('7', '"note":"half a pair \\ud800"'),
      saleText('8', '"synced_at":"vendor field"'),
      saleText('9', '"tiny":1e-200'),
      saleText('10'),
    ]);
    const out: SyncSalesPageOutput = await syncSales();
    assert.equal(vendor.seen('/sales').length, 1, 'one request: nothing was retried');
    assert.equal(out.counts.sales?.fetched, 10);
    assert.equal(out.counts.sales?.inserted, 2);
    assert.equal(out.counts.sales?.setAside, 8);
    const stored = new Map((await store.scanAll('sales')).map((s) => [String(s.sale_id), s]));
    assert.deepEqual([...stored.keys()].sort(), ['1', '10']);
    const ean = stored.get('1')?.ean;
    assert.ok(ean instanceof ExactNumber, 'read back with every digit');
    assert.equal(ean.text, '12345678901234567890');
    const raw = await store.clients.raw.send(
      new GetItemCommand({
        TableName: store.names.sales,
        Key: { sale_id: { S: '1' }, employee_id: { S: SP } },
      }),
    );
    assert.equal(raw.Item?.ean?.N, '12345678901234567890', 'DynamoDB holds the exact digits');
    const reasons = (await quarantineReasons(store)).join('\n');
    for (const why of [
      /weight: number 1e400 is outside DynamoDB's range/,
      /ratio: number .* has 39 significant digits/,
      /nested deeper than 32 levels/,
      /over DynamoDB's 400 KB limit/,
      /empty name/,
      /note is not well-formed Unicode/,
      /synced_at has the name of an attribute the pipeline writes/,
      /tiny: number 1e-200 is outside DynamoDB's range/,
    ])
      assert.match(reasons, why);
  });

  it('sets aside, one by one, items DynamoDB refuses for a cause the checks did not foresee', async () => {
    const store = await freshStore(dynamo);
    // The writer's own check leaves nesting depth to validation, which this call skips: DynamoDB
    // refuses an item nested deeper than 32 levels, and only the fallback can find which one.
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = { a: deep };
    const items = ['1', '2', '3'].map((id) => ({
      key: { sale_id: id, employee_id: SP },
      hash: `h${id}`,
      item: id === '2' ? { nested: deep } : { amount: '1.00' },
    }));
    const r = await upsertIfChanged(store.clients, store.names.sales, ['sale_id', 'employee_id'], items);
    assert.equal(r.inserted, 2);
    assert.equal(r.rejected.length, 1);
    assert.match(r.rejected[0]?.reason ?? '', /DynamoDB refused the item: .*[Nn]esting/);
    assert.deepEqual((await store.scanAll('sales')).map((s) => s.sale_id).sort(), ['1', '3']);
  });

  it('keeps ids beyond 2^53 exact: two ids that differ past 2^53 are two items, asked for with every digit', async () => {
    const big = '18446744073709551615';
    const { vendor, store, syncSales } = await setup(
      [saleText('9007199254740993'), saleText('9007199254740992')],
      undefined,
      3000,
      big,
    );
    const out = await syncSales(null, big);
    assert.equal(out.counts.sales?.inserted, 2);
    assert.equal(out.counts.sales?.setAside, 0);
    assert.equal(vendor.seen('/sales')[0]?.params.get('salespersonsID'), big);
    const ids = (await store.scanAll('sales')).map((s) => `${String(s.sale_id)}/${String(s.employee_id)}`);
    assert.deepEqual(ids.sort(), [`9007199254740992/${big}`, `9007199254740993/${big}`]);
  });

  it('treats copies of a record with keys in another order as one record; same-key records as ambiguous', async () => {
    const { store, syncSales } = await setup([
      '{"id":5,"transaction_timestamp":"2026-05-01 09:30:00","amount":"1.00","product":"P","quantity":1,"customer":"C"}',
      '{"customer":"C","quantity":1,"product":"P","amount":"1.00","transaction_timestamp":"2026-05-01 09:30:00","id":5}',
      '{"id":6,"transaction_timestamp":"2026-05-01 09:30:00","amount":"1.00","amount":"2.00","product":"P","quantity":1,"customer":"C"}',
    ]);
    const out = await syncSales();
    assert.equal(out.counts.sales?.inserted, 1);
    assert.equal(out.counts.sales?.setAside, 2);
    const reasons = (await quarantineReasons(store)).join('\n');
    assert.match(reasons, /duplicate sale id 5 in one response \(exact copy; one stored\)/);
    assert.match(reasons, /the key "amount" appears twice in one object/);
  });

  it('sets aside as a body an answer about another id than the one asked for, storing nothing under the asked id', async () => {
    const { store, syncSales } = await setup([], (req, res) =>
      req.path === '/sales'
        ? send(res, 200, `{"result":{"employee_id":43,"sales":[${saleText('1')}]}}`)
        : false,
    );
    const f = await failureOf(syncSales());
    assert.equal(f.type, 'VendorBadBody');
    assert.match(f.message, /result\.employee_id 43 instead of 42/);
    assert.equal((await store.scanAll('sales')).length, 0);
    const q = await store.scanAll('quarantine');
    assert.equal(q.length, 1);
    assert.equal(q[0]?.kind, 'body');
  });

  it('sets aside as a body an envelope with a key twice (two employee ids, two sales lists)', async () => {
    const { store, syncSales } = await setup([], (req, res) =>
      req.path === '/sales'
        ? send(
            res,
            200,
            `{"result":{"employee_id":43,"sales":[${saleText('1')}],"employee_id":42,"sales":[]}}`,
          )
        : false,
    );
    const f = await failureOf(syncSales());
    assert.equal(f.type, 'VendorBadBody');
    assert.match(f.message, /ambiguous \/sales envelope \(the key "employee_id" appears twice/);
    assert.equal((await store.scanAll('sales')).length, 0);
  });

  it('keeps a long set-aside record whole up to the limit, emoji included, and reasons that quote odd field names', async () => {
    const store = await freshStore(dynamo);
    const raw = `${'x'.repeat(15_999)}😀${'y'.repeat(100)}`;
    const n = await store.quarantine(
      [
        { kind: 'body', reason: 'a body', raw, request: '/sales?salespersonsID=42' },
        { kind: 'sale', reason: 'field \uD800: bad', raw: { id: 1 }, request: '/sales?salespersonsID=42' },
      ],
      { workflowId: 'wf', runId: 'run' },
    );
    assert.equal(n, 2);
  });

  it('never follows a redirect to another origin: the key stays home, and the request is not retried', async () => {
    const elsewhere = await ScriptedVendor.start(oneBranch(BRANCH, SP, []), 'not-the-key');
    vendors.push(elsewhere);
    const { vendor, acts, env } = await setup([], (req, res) =>
      req.path === '/employees'
        ? send(res, 302, '', { location: `${elsewhere.url}/employees?branchID=${BRANCH}` })
        : false,
    );
    const f = await failureOf(
      env.run(acts.syncEmployeesPage, { landing: LIVE, branchId: BRANCH, pageToken: null }),
    );
    assert.equal(f.nonRetryable, true);
    assert.match(
      f.message,
      new RegExp(
        `redirected /employees\\?branchID=7&page_size=100 \\(302\\) to another host, ${new URL(elsewhere.url).host}`,
      ),
    );
    assert.equal(elsewhere.requests.length, 0, 'nothing reached the other host');
    assert.equal(vendor.seen('/employees').length, 1);
  });

  it('follows a redirect within the vendor origin', async () => {
    const { store, syncSales } = await setup([saleText('1')], (req, res) =>
      req.path === '/sales' && !req.params.has('moved')
        ? send(res, 307, '', { location: `/sales?salespersonsID=${SP}&moved=1` })
        : false,
    );
    const out = await syncSales();
    assert.equal(out.counts.sales?.inserted, 1);
    assert.equal((await store.scanAll('sales')).length, 1);
  });

  it('times out a body that stalls after the headers, like a request that never answers', async () => {
    const { syncSales } = await setup(
      [],
      (req, res) => {
        if (req.path !== '/sales') return false;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"result":{"employee_id":42,"sales":[');
        return true; // and never more
      },
      800,
    );
    const started = Date.now();
    const f = await failureOf(syncSales());
    assert.equal(f.type, 'VendorUnavailable');
    assert.match(f.message, /did not answer \/sales\?salespersonsID=42&page_size=100 within 800 ms/);
    assert.ok(Date.now() - started < 5000);
  });

  it('heartbeats while a slow answer is awaited, and writes nothing once the attempt is given up', async () => {
    let release: () => void = () => undefined;
    const { store, env, syncSales } = await setup(
      [saleText('1')],
      async (req) => {
        if (req.path === '/sales') await new Promise<void>((r) => (release = r));
        return false;
      },
      20_000,
    );
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const run = syncSales().then(
      () => 'completed',
      (e: unknown) => `${(e as Error).name}: ${(e as Error).message}`,
    );
    await new Promise((r) => setTimeout(r, 7000));
    assert.ok(beats >= 2, `heartbeats while waiting: ${beats}`);
    env.cancel('TIMED_OUT');
    release();
    assert.match(await run, /^CancelledFailure/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await store.scanAll('sales')).length, 0, 'the abandoned attempt wrote nothing');
  });

  it('sends no heartbeat for an answer that comes within the heartbeat period (each one is a billable action)', async () => {
    const { env, syncSales } = await setup([saleText('1')]);
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const out = await syncSales();
    assert.equal(out.counts.sales?.inserted, 1);
    assert.equal(beats, 0);
  });

  it('drops out-of-window sales before judging them, when the server ignores from/to', async () => {
    const { store, syncSales } = await setup([
      saleText('1', '', '2026-05-01 09:30:00'),
      // An old sale with a malformed amount: outside the window, so neither stored nor set aside.
      '{"id":2,"transaction_timestamp":"2020-01-01 00:00:00","amount":"twelve","product":"P","quantity":1,"customer":"C"}',
    ]);
    const out = await syncSales({ from: '2026-05-01T00:00:00Z', to: '2026-05-02T00:00:00Z' });
    assert.equal(out.counts.sales?.inserted, 1);
    assert.equal(out.counts.sales?.setAside, 0);
    assert.equal((await store.scanAll('quarantine')).length, 0);
  });

  it('reports a salesperson whose sales answer 404 as gone, not as a failure', async () => {
    const { syncSales } = await setup([]);
    const out = await syncSales(null, '404404');
    assert.equal(out.vanished, true);
  });

  it('refuses plain http to a host other than loopback unless told to allow it', () => {
    assert.throws(
      () => new VendorClient({ url: 'http://vendor.example.com', apiKey: 'k', timeoutMs: 1000 }),
      /plain http to a host other than loopback.*VENDOR_ALLOW_INSECURE_HTTP=true/,
    );
    assert.doesNotThrow(
      () =>
        new VendorClient({
          url: 'http://vendor.example.com',
          apiKey: 'k',
          timeoutMs: 1000,
          allowInsecureHttp: true,
        }),
    );
    assert.doesNotThrow(
      () => new VendorClient({ url: 'https://vendor.example.com', apiKey: 'k', timeoutMs: 1000 }),
    );
    assert.doesNotThrow(() => new VendorClient({ url: 'http://127.0.0.1:9', apiKey: 'k', timeoutMs: 1000 }));
  });
});
