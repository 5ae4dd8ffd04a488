/**
 * Complete by construction (#24), on the time-skipping server, DynamoDB Local and a vendor of
 * the contract that is not the simulator (its data changed by each test, as history moves at a
 * real vendor): first loads, watermarks across an outage, a failed branch, voids and their guard,
 * departures, and no void on an incomplete listing.
 */
import assert from 'node:assert/strict';
import { windowScope } from '../src/shared/ids.js';
import { formatVendorTimestamp } from '../src/vendor-api/schemas.js';
import type { SalesSyncInput } from '../src/workflows/types.js';
import { SIM_KEY, type Pipeline, useStack } from './helpers/harness.js';
import {
  type ScriptedData,
  type ScriptedVendor,
  saleText,
  send,
  useScriptedVendors,
} from './helpers/scripted-vendor.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-06-10T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
/** A sale of the scripted vendor at `ms`. */
const sale = (id: string, ms: number) => saleText(id, '', formatVendorTimestamp(ms));
const person = (id: string) => `{"id":${id},"occupation":"salesperson","name":"P ${id}"}`;
const branch = (id: string, name: string) =>
  `{"id":${id},"branch_name":"${name}","employees":2,"location":"Ohio"}`;

/** Akron (7: salespersons 42, 43), Bath (8: 50) and Canton (9: 60), with sales over the last days before T0. */
function data(): ScriptedData {
  return {
    branches: { Akron: branch('7', 'Akron'), Bath: branch('8', 'Bath'), Canton: branch('9', 'Canton') },
    employees: { '7': [person('42'), person('43')], '8': [person('50')], '9': [person('60')] },
    sales: {
      // Six sales in the 24 h before T0, and one ten days old.
      '42': [1, 2, 3, 4, 5, 6]
        .map((h) => sale(`42${h}`, T0 - h * 3 * HOUR))
        .concat(sale('4299', T0 - 240 * HOUR)),
      '43': [sale('4301', T0 - 2 * HOUR), sale('4302', T0 - 300 * HOUR)],
      '50': [sale('5001', T0 - 3 * HOUR), sale('5002', T0 - 100 * HOUR)],
      '60': [sale('6001', T0 - 400 * HOUR)],
    },
  };
}

describe('complete by construction: first loads, watermarks, voids (time-skipping server)', function () {
  this.timeout(240_000);
  const stack = useStack('time-skipping');
  const scripted = useScriptedVendors(stack);

  async function setup(): Promise<{ vendor: ScriptedVendor; p: Pipeline; d: ScriptedData }> {
    const { vendor, p } = await scripted(data(), SIM_KEY);
    return { vendor, p, d: vendor.data };
  }
  /** One run ending at `endMs` over the hour before it (or `hours`). */
  const run = (p: Pipeline, endMs: number, more: SalesSyncInput = {}) =>
    p.withWorkers(() => p.run({ branches: ['Akron'], windowEnd: iso(endMs), windowHours: 1, ...more }));
  const saleIds = async (p: Pipeline) =>
    (await p.store.scanAll('sales')).map((s) => String(s.sale_id)).sort();
  const saleItem = async (p: Pipeline, id: string) =>
    (await p.store.scanAll('sales')).find((s) => String(s.sale_id) === id);

  it('a branch synced for the first time gets its whole history, whatever the window; its watermark is the window end', async () => {
    const { p } = await setup();
    const r = await run(p, T0);
    assert.ok(r.ok);
    assert.deepEqual(await saleIds(p), ['421', '422', '423', '424', '425', '426', '4299', '4301', '4302']);
    assert.deepEqual(r.summary.completeness?.firstSightBranches, ['Akron']);
    assert.equal(r.summary.completeness?.firstSightSalespersons, 2);
    assert.equal((await p.state.branch('7'))?.watermark, iso(T0));
    assert.deepEqual(r.summary.completeness?.watermarks, [{ branch: 'Akron', watermark: iso(T0) }]);
  });

  it('after a 3-day outage the next run reads back to the watermark (less the overlap): no gap', async () => {
    const { p, d } = await setup();
    assert.ok((await run(p, T0)).ok);
    // Sold during the outage, long before the next run's own one-hour window.
    d.sales['42']?.push(sale('4240', T0 + 30 * HOUR), sale('4241', T0 + 60 * HOUR));
    const r = await run(p, T0 + 72 * HOUR);
    assert.ok(r.ok);
    const ids = await saleIds(p);
    assert.ok(
      ids.includes('4240') && ids.includes('4241'),
      `the outage's sales are stored: ${ids.join(',')}`,
    );
    assert.deepEqual(
      r.summary.completeness?.widened.map((w) => [w.branch, w.from]),
      [['Akron', iso(T0 - HOUR)]],
    );
    assert.match(r.summary.completeness?.widened[0]?.reason ?? '', /last complete window ended/);
    assert.equal((await p.state.branch('7'))?.watermark, iso(T0 + 72 * HOUR));
  });

  it('a branch that failed keeps its watermark; the other moves on', async () => {
    const { vendor, p } = await setup();
    assert.ok((await run(p, T0, { branches: ['Akron', 'Bath'] })).ok);
    vendor.handler = (req, res) =>
      req.path === '/sales' && req.params.get('salespersonsID') === '50' && send(res, 400, '{"error":"no"}');
    const r = await run(p, T0 + 2 * HOUR, { branches: ['Akron', 'Bath'], toleratedFailurePercent: 50 });
    assert.ok(r.ok);
    assert.deepEqual(
      r.summary.failedBranches.map((f) => f.branch),
      ['Bath'],
    );
    assert.equal((await p.state.branch('7'))?.watermark, iso(T0 + 2 * HOUR));
    assert.equal((await p.state.branch('8'))?.watermark, iso(T0));
  });

  it('a new hire and a salesperson transferred in from a branch not synced get their whole history; then only windows', async () => {
    const { p, d } = await setup();
    assert.ok((await run(p, T0)).ok);
    d.employees['7']?.push(person('44'), person('60'));
    d.sales['44'] = [sale('4401', T0 - 500 * HOUR)];
    // A late arrival of a known salesperson: the hourly run does not read back to it.
    d.sales['42']?.push(sale('4250', T0 - 72 * HOUR));
    const r = await run(p, T0 + HOUR);
    assert.ok(r.ok);
    const ids = await saleIds(p);
    assert.ok(ids.includes('4401') && ids.includes('6001'), `whole histories stored: ${ids.join(',')}`);
    assert.ok(!ids.includes('4250'), 'a known salesperson is read in the window only');
    assert.equal(r.summary.completeness?.firstSightSalespersons, 2);
    assert.deepEqual(r.summary.completeness?.firstSightSalespersonIds.sort(), ['44', '60']);
    const again = await run(p, T0 + 2 * HOUR);
    assert.equal(again.summary.completeness?.firstSightSalespersons, 0);
  });

  it('a sale no longer listed is voided (kept, marked); listed again, the mark is cleared', async () => {
    const { p, d } = await setup();
    assert.ok((await run(p, T0)).ok);
    const list = d.sales['42'] ?? [];
    const removed = list.splice(1, 1)[0] ?? '';
    const r = await run(p, T0 + HOUR, { windowHours: 24 });
    assert.ok(r.ok);
    assert.equal(r.summary.completeness?.voided, 1);
    const voided = await saleItem(p, '422');
    assert.ok(voided, 'the voided sale stays stored');
    assert.equal(typeof voided.voided_at, 'string');
    assert.equal((await p.store.scanAll('sales')).filter((s) => s.voided_at !== undefined).length, 1);
    list.push(removed);
    const back = await run(p, T0 + 2 * HOUR, { windowHours: 24 });
    assert.equal(back.summary.completeness?.restored, 1);
    assert.equal((await saleItem(p, '422'))?.voided_at, undefined);
  });

  it('the void guard: a listing that would void more than the guarded share voids nothing and is reported', async () => {
    const { p, d } = await setup();
    assert.ok((await run(p, T0)).ok);
    d.sales['42']?.splice(0, 3);
    const r = await run(p, T0 + HOUR, { windowHours: 24 });
    assert.ok(r.ok);
    assert.equal(r.summary.completeness?.voided, 0);
    assert.equal(r.summary.completeness?.voidGuardTrips, 1);
    assert.deepEqual(r.summary.completeness?.voidGuarded, [
      { branch: 'Akron', employeeId: '42', wouldVoid: 3, stored: 6 },
    ]);
    assert.equal((await p.store.scanAll('sales')).filter((s) => s.voided_at !== undefined).length, 0);
    // A higher guard lets the same listing void.
    const allowed = await run(p, T0 + 2 * HOUR, { windowHours: 24, voidGuardPercent: 60 });
    assert.equal(allowed.summary.completeness?.voided, 3);
  });

  it('no void on an incomplete listing: a repeated page token, a failed page', async () => {
    const { vendor, p, d } = await setup();
    assert.ok((await run(p, T0)).ok);
    d.sales['42']?.splice(0, 1);
    const body = () =>
      `{"result":{"employee_id":42,"sales":[${(d.sales['42'] ?? []).join(',')}]},"next_page_token":"again"}`;
    vendor.handler = (req, res) =>
      req.path === '/sales' && req.params.get('salespersonsID') === '42' && send(res, 200, body());
    const repeated = await run(p, T0 + HOUR, { windowHours: 24 });
    assert.equal(repeated.summary.completeness?.voided, 0);
    assert.equal(repeated.summary.completeness?.voidChecksSkipped['paging stopped'], 1);
    // No complete window: the watermark stays.
    assert.equal((await p.state.branch('7'))?.watermark, iso(T0));
    vendor.handler = (req, res) =>
      req.path === '/sales' && req.params.get('salespersonsID') === '42' && send(res, 400, '{"error":"no"}');
    const failed = await run(p, T0 + 2 * HOUR, { windowHours: 24 });
    assert.equal(failed.ok, false);
    assert.equal((await p.store.scanAll('sales')).filter((s) => s.voided_at !== undefined).length, 0);
  });

  it('a salesperson no longer listed under the branch gets left_at; listed again, it is cleared', async () => {
    const { p, d } = await setup();
    assert.ok((await run(p, T0)).ok);
    const employees = d.employees['7'] ?? [];
    const gone = employees.splice(1, 1)[0] ?? '';
    const r = await run(p, T0 + HOUR);
    assert.equal(r.summary.completeness?.departed, 1);
    const member = (await p.store.scanAll('salespersons')).find((s) => String(s.employee_id) === '43');
    assert.equal(typeof member?.left_at, 'string');
    employees.push(gone);
    await run(p, T0 + 2 * HOUR);
    const back = (await p.store.scanAll('salespersons')).find((s) => String(s.employee_id) === '43');
    assert.equal(back?.left_at, undefined);
  });

  it("a salesperson a second branch syncs over a shorter window is read again over this branch's widened one", async () => {
    const { p, d } = await setup();
    assert.ok((await run(p, T0, { branches: ['Akron', 'Bath'] })).ok);
    assert.ok((await run(p, T0 + 71 * HOUR, { branches: ['Bath'] })).ok);
    // 42 is now listed under Bath too, and sold during Akron's gap (Bath's watermark is past it).
    d.employees['8']?.push(person('42'));
    d.sales['42']?.push(sale('4240', T0 + 30 * HOUR));
    // Bath first, alone: its child of 42 (window from T0+70h) is done before Akron lists 42.
    const r = await run(p, T0 + 72 * HOUR, { branches: ['Bath', 'Akron'], branchConcurrency: 1 });
    assert.ok(r.ok);
    assert.ok((await saleIds(p)).includes('4240'), "the sale in Akron's gap is stored");
    assert.equal((await p.state.branch('7'))?.watermark, iso(T0 + 72 * HOUR));
  });

  it("a salesperson whose record was set aside keeps the branch's watermark (its sales were not read) and is not marked left", async () => {
    const { p, d } = await setup();
    assert.ok((await run(p, T0)).ok);
    // 43's record loses its name: set aside, its id readable.
    d.employees['7'] = [person('42'), '{"id":43,"occupation":"salesperson"}'];
    const r = await run(p, T0 + HOUR);
    assert.equal(r.summary.counts.salespersons.setAside, 1);
    assert.equal(r.summary.completeness?.departed, 0);
    assert.equal((await p.state.branch('7'))?.watermark, iso(T0));
  });

  it("an empty listing voids nothing, not even a salesperson's only sale in the window", async () => {
    const { p, d } = await setup();
    assert.ok((await run(p, T0)).ok);
    d.sales['43'] = [];
    const r = await run(p, T0 + HOUR, { windowHours: 24 });
    assert.equal(r.summary.completeness?.voided, 0);
    assert.deepEqual(r.summary.completeness?.voidGuarded, [
      { branch: 'Akron', employeeId: '43', wouldVoid: 1, stored: 1 },
    ]);
  });

  it('a replay reads what its run read (whole histories, a widened window), moves no watermark and voids nothing', async () => {
    const { p, d } = await setup();
    const first = await run(p, T0, { windowHours: 24 });
    const widened = await run(p, T0 + 72 * HOUR);
    assert.ok(first.ok && widened.ok);
    assert.equal(widened.summary.completeness?.widened.length, 1);
    d.sales['42']?.splice(0, 1);
    const replay = async (r: typeof first, hours: number, endMs: number) => {
      const window = { from: iso(endMs - hours * HOUR), to: iso(endMs) };
      const scope = windowScope(window, iso(endMs));
      return p.withWorkers(() =>
        p.run({
          branches: ['Akron'],
          window,
          replay: { run: { scope, workflowId: r.workflowId }, dryRun: true },
        }),
      );
    };
    for (const [r, hours, endMs] of [
      [first, 24, T0],
      [widened, 1, T0 + 72 * HOUR],
    ] as const) {
      const again = await replay(r, hours, endMs);
      assert.ok(again.ok, again.ok ? '' : again.message);
      assert.equal(again.summary.counts.sales.fetched, r.summary.counts.sales.fetched);
      assert.equal(again.summary.completeness, undefined);
    }
    assert.equal((await p.state.branch('7'))?.watermark, iso(T0 + 72 * HOUR));
    assert.equal((await p.store.scanAll('sales')).filter((s) => s.voided_at !== undefined).length, 0);
  });
});
