/** The simulator's seeded fault injection, one fault kind at a time, and its replay from a fault seed. */
import assert from 'node:assert/strict';
import { branchSchema, employeeSchema, parseVendorTimestamp, saleSchema } from '../src/vendor-api/schemas.js';
import type { VendorSimulator } from '../src/sim/index.js';
import { BAD_RECORD_KINDS, FAULT_KINDS } from '../src/sim/index.js';
import {
  KEY,
  fetchAllPages,
  field,
  get,
  listOf,
  someSalesperson,
  useSimulators,
} from './helpers/sim-client.js';

describe('simulator faults', () => {
  const start = useSimulators();

  const sales = (sim: VendorSimulator): string => `/sales?salespersonsID=${someSalesperson(sim.dataset)}`;

  it('injects nothing at rate 0 and serves only good records', async () => {
    const sim = await start({
      faults: Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])),
      extraFields: 1,
    });
    for (const b of sim.dataset.branches) {
      const emp = await get(sim, `/employees?branchID=${b.id}&page_size=500`);
      assert.equal(emp.status, 200);
      for (const e of listOf('/employees', emp.json)) assert.ok(employeeSchema.safeParse(e).success);
      for (const s of sim.dataset.salespersonsOf(b.id)) {
        const r = await get(sim, `/sales?salespersonsID=${s.id}`);
        const list = listOf('/sales', r.json);
        for (const sale of list) assert.ok(saleSchema.safeParse(sale).success);
        assert.equal(new Set(list.map((x) => field(x, 'id'))).size, list.length);
      }
    }
    const c = sim.counters();
    assert.deepEqual(
      Object.values(c.faultsInjected),
      FAULT_KINDS.map(() => 0),
    );
    assert.deepEqual(Object.keys(c.byStatus), ['200']);
    assert.deepEqual(sim.injectedBadRecords(), []);
  });

  it('error5xx: answers 500, 502 or 503 with a JSON error, only on otherwise good requests', async () => {
    const sim = await start({ faults: { error5xx: 1 } });
    for (let i = 0; i < 6; i++) {
      const r = await get(sim, sales(sim));
      assert.ok([500, 502, 503].includes(r.status), String(r.status));
      assert.equal(typeof field(r.json, 'error'), 'string');
    }
    assert.equal((await get(sim, '/branches', 'wrong')).status, 401);
    assert.equal((await get(sim, '/employees?branchID=1')).status, 404);
    assert.equal((await get(sim, '/employees?branchID=x')).status, 400);
    assert.equal(sim.counters().faultsInjected.error5xx, 6);
    sim.setFaults({ error5xx: 0 });
    assert.equal((await get(sim, sales(sim))).status, 200);
  });

  it('drop: destroys the connection without an answer', async () => {
    const sim = await start({ faults: { drop: 1 } });
    await assert.rejects(fetch(`${sim.url}/branches`, { headers: { 'x-api-key': KEY } }));
    assert.equal(sim.counters().faultsInjected.drop, 1);
    assert.deepEqual(sim.counters().byStatus, {});
    sim.setFaults({ drop: 0 });
    assert.equal((await get(sim, '/branches')).status, 200);
  });

  it('slow: delays the answer by slowMs, and stop() does not wait for it', async () => {
    const sim = await start({ faults: { slow: 1 }, slowMs: 300 });
    const t0 = performance.now();
    const r = await get(sim, '/branches?branch=Albany');
    assert.ok(performance.now() - t0 >= 290);
    assert.equal(r.status, 200);
    assert.equal(field(r.json, 'result', 0, 'branch_name'), 'Albany');
    sim.setFaults({ slow: 0 });
    const t1 = performance.now();
    await get(sim, '/branches');
    assert.ok(performance.now() - t1 < 290);

    const stuck = await start({ faults: { slow: 1 }, slowMs: 60_000 });
    const pending = fetch(`${stuck.url}/branches`, { headers: { 'x-api-key': KEY } }).then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((res) => setTimeout(res, 50));
    const t2 = performance.now();
    await stuck.stop();
    assert.ok(performance.now() - t2 < 1000);
    assert.equal(await pending, 'failed');
  });

  it('nonJson: 200 with a truncated JSON body', async () => {
    const sim = await start({ faults: { nonJson: 1 } });
    const r = await get(sim, '/branches');
    assert.equal(r.status, 200);
    assert.ok(r.text.startsWith('{"result":['));
    assert.throws(() => JSON.parse(r.text) as unknown);
    assert.equal(sim.counters().faultsInjected.nonJson, 1);
  });

  it('html: 200 with an HTML page', async () => {
    const sim = await start({ faults: { html: 1 } });
    const r = await get(sim, sales(sim));
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
    assert.ok(r.text.startsWith('<html>'));
    assert.equal(r.json, undefined);
  });

  for (const kind of BAD_RECORD_KINDS) {
    it(`badRecord ${kind}: corrupts every record it can and logs each one`, async () => {
      const sim = await start({ faults: { badRecord: 1 }, badRecordKinds: [kind] });
      const id = someSalesperson(sim.dataset);
      const good = sim.dataset.salesBySalesperson.get(id) ?? [];
      const r = await get(sim, `/sales?salespersonsID=${id}`);
      assert.equal(r.status, 200);
      const list = listOf('/sales', r.json);
      assert.equal(list.length, good.length);
      const log = sim.injectedBadRecords();
      // A duplicate only copies the id of an intact record: at rate 1, every other record from the second on.
      const expectBad = kind === 'duplicateId' ? Math.floor(good.length / 2) : good.length;
      assert.equal(log.length, expectBad);
      assert.equal(sim.counters().faultsInjected.badRecord, expectBad);
      list.forEach((record, i) => {
        const original = good[i];
        assert.ok(original);
        if (kind === 'duplicateId') {
          if (i % 2 === 0) {
            assert.deepEqual(record, original);
          } else {
            // A duplicate passes the schema on its own; only its id repeats the previous one.
            assert.equal(field(record, 'id'), good[i - 1]?.id);
            assert.ok(saleSchema.safeParse(record).success);
          }
        } else {
          assert.ok(!saleSchema.safeParse(record).success, JSON.stringify(record));
        }
        if (kind === 'missingId') assert.equal(field(record, 'id'), undefined);
        if (kind === 'stringNumber') assert.equal(field(record, 'quantity'), String(original.quantity));
        if (kind === 'badTimestamp') {
          assert.equal(parseVendorTimestamp(String(field(record, 'transaction_timestamp'))), undefined);
        }
      });
      for (const entry of log) {
        assert.equal(entry.kind, kind);
        assert.equal(entry.path, '/sales');
        assert.equal(entry.query, `?salespersonsID=${id}`);
        assert.equal(entry.recordKind, 'sale');
      }
      assert.deepEqual(
        log.map((e) => e.originalId),
        (kind === 'duplicateId' ? good.filter((_, i) => i % 2 === 1) : good).map((s) => s.id),
      );

      // The dataset itself stays good.
      for (const s of good) assert.ok(saleSchema.safeParse(s).success);
      if (kind === 'missingId' || kind === 'stringNumber') {
        const branches = await get(sim, '/branches');
        for (const b of listOf('/branches', branches.json)) assert.ok(!branchSchema.safeParse(b).success);
        const employees = await get(sim, '/employees?branchID=100');
        for (const e of listOf('/employees', employees.json)) assert.ok(!employeeSchema.safeParse(e).success);
      }
    });
  }

  it('badRecord at a partial rate mixes good and bad records and logs exactly the bad ones', async () => {
    const sim = await start({ faults: { badRecord: 0.3 }, badRecordKinds: ['missingId', 'badTimestamp'] });
    let bad = 0;
    let goodCount = 0;
    for (const [employeeId] of sim.dataset.salesBySalesperson) {
      const r = await get(sim, `/sales?salespersonsID=${employeeId}`);
      for (const s of listOf('/sales', r.json)) {
        if (saleSchema.safeParse(s).success) goodCount++;
        else bad++;
      }
    }
    assert.ok(bad > 0 && goodCount > 0);
    assert.equal(sim.injectedBadRecords().length, bad);
    assert.equal(sim.counters().faultsInjected.badRecord, bad);
  });

  it('repeatToken: next_page_token repeats the sent token (or the first page token), a loop', async () => {
    const sim = await start({ faults: { repeatToken: 1 } });
    const first = await get(sim, '/employees?branchID=100&page_size=2');
    const firstToken = field(first.json, 'next_page_token');
    assert.equal(typeof firstToken, 'string');
    const second = await get(sim, `/employees?branchID=100&page_size=2&page_token=${String(firstToken)}`);
    assert.equal(second.status, 200);
    assert.equal(field(second.json, 'next_page_token'), firstToken);
    assert.deepEqual(listOf('/employees', second.json), listOf('/employees', first.json));
    const unpaged = await get(sim, '/employees?branchID=100');
    assert.equal(field(unpaged.json, 'next_page_token'), undefined, 'no token without pagination');
    assert.equal(sim.counters().faultsInjected.repeatToken, 2);
    sim.setFaults({ repeatToken: 0 });
    assert.equal((await fetchAllPages(sim, '/employees', 'branchID=100', 5)).length, 12);
  });

  it('replays the same fault sequence for the same fault seed', async () => {
    const run = async (): Promise<number[]> => {
      const sim = await start({ faults: { error5xx: 0.5 }, faultSeed: 77 });
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await get(sim, '/branches')).status);
      return statuses;
    };
    const a = await run();
    assert.deepEqual(await run(), a);
    assert.ok(a.includes(200) && a.some((s) => s >= 500));
  });
});
