import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  branchSchema,
  branchesEnvelope,
  employeeSchema,
  employeesEnvelope,
  formatVendorTimestamp,
  parseVendorTimestamp,
  saleSchema,
  salesEnvelope,
} from '../src/vendor-api/schemas.js';
import type { Dataset, RetryAfterMode, SaleRecord, SimOptions } from '../src/sim/index.js';
import {
  BAD_RECORD_KINDS,
  BRANCH_NAMES,
  FAULT_KINDS,
  generateDataset,
  parseSimCommandLine,
  VendorSimulator,
} from '../src/sim/index.js';

const KEY = 'sim-key';
/** A fixed anchor so that generated data does not depend on the wall clock. */
const ANCHOR = Date.UTC(2024, 0, 15, 12);
const HOUR = 3_600_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** Looks up a nested field of parsed JSON without `any`. */
function field(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

async function get(sim: VendorSimulator, pathAndQuery: string, key: string | null = KEY): Promise<Reply> {
  const headers: Record<string, string> = key === null ? {} : { 'x-api-key': key };
  const res = await fetch(`${sim.url}${pathAndQuery}`, { headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The record list of any of the three envelopes. */
function listOf(path: string, json: unknown): unknown[] {
  const list =
    path === '/branches'
      ? field(json, 'result')
      : path === '/employees'
        ? field(json, 'result', 'employees')
        : field(json, 'result', 'sales');
  assert.ok(Array.isArray(list), `no record list in ${JSON.stringify(json)}`);
  return list as unknown[];
}

/** Follows next_page_token to the end; fails on a loop. */
async function fetchAllPages(
  sim: VendorSimulator,
  path: string,
  query: string,
  pageSize: number,
): Promise<unknown[]> {
  const records: unknown[] = [];
  let token: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const tokenPart: string = token === null ? '' : `&page_token=${encodeURIComponent(token)}`;
    const reply = await get(sim, `${path}?${query}&page_size=${pageSize}${tokenPart}`);
    assert.equal(reply.status, 200, reply.text);
    const list = listOf(path, reply.json);
    assert.ok(list.length <= pageSize);
    records.push(...list);
    const next = field(reply.json, 'next_page_token');
    assert.ok(next === null || typeof next === 'string');
    if (next === null) return records;
    assert.notEqual(next, token, 'token repeated');
    token = next;
  }
  assert.fail('pagination did not end');
}

const running: VendorSimulator[] = [];

/** Starts a simulator on a free port with fixed data and no quota unless the test says otherwise. */
async function start(options: Partial<SimOptions> = {}): Promise<VendorSimulator> {
  const sim = await VendorSimulator.start({ port: 0, anchorTime: ANCHOR, quota: 0, ...options });
  running.push(sim);
  return sim;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

function someSalesperson(ds: Dataset): number {
  const first = ds.salespersonsOf(ds.branches[0]?.id ?? -1)[0];
  assert.ok(first, 'no salesperson in the first branch');
  return first.id;
}

describe('simulator dataset', () => {
  it('has the 13 named branches in order, then generated names', () => {
    const ds = generateDataset({ anchorTime: ANCHOR });
    assert.deepEqual(
      ds.branches.map((b) => b.branch_name),
      [
        'Scranton',
        'Akron',
        'Buffalo',
        'Rochester',
        'Syracuse',
        'Utica',
        'Binghamton',
        'Albany',
        'Nashua',
        'Pittsfield',
        'Stamford',
        'Yonkers',
        'New York',
      ],
    );
    assert.deepEqual(
      BRANCH_NAMES,
      ds.branches.map((b) => b.branch_name),
    );
    const more = generateDataset({
      anchorTime: ANCHOR,
      branches: 15,
      employeesPerBranch: 2,
      salesPerSalesperson: 1,
    });
    assert.deepEqual(
      more.branches.slice(12).map((b) => b.branch_name),
      ['New York', 'Branch 14', 'Branch 15'],
    );
  });

  it('generates consistent ids, head counts, occupations, extra fields and timestamps', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, extraFields: 3, salesSpanHours: 5 });
    const branchIds = ds.branches.map((b) => b.id);
    assert.equal(new Set(branchIds).size, branchIds.length);
    ds.branches.forEach((b, i) => assert.notEqual(b.id, i));
    const employeeIds = [...ds.employeesByBranch.values()].flat().map((e) => e.id);
    assert.equal(new Set(employeeIds).size, employeeIds.length, 'employee ids are globally unique');
    const saleIds = ds.allSales().map((s) => s.id);
    assert.equal(new Set(saleIds).size, saleIds.length, 'sale ids are globally unique');
    assert.equal(saleIds.length, 13 * 6 * 20);
    for (const branch of ds.branches) {
      const employees = ds.employeesByBranch.get(branch.id) ?? [];
      assert.equal(branch.employees, employees.length);
      assert.equal(employees.length, 12);
      assert.deepEqual(
        employees.map((e) => e.id),
        [...employees.map((e) => e.id)].sort((a, b) => a - b),
      );
      assert.equal(ds.salespersonsOf(branch.id).length, 6);
      assert.ok(employees.some((e) => e.occupation !== 'salesperson'));
      assert.equal(ds.branchByName(branch.branch_name), branch);
      for (const record of [branch, ...employees]) {
        assert.deepEqual(
          Object.keys(record).filter((k) => k.startsWith('extra_')),
          ['extra_1', 'extra_2', 'extra_3'],
        );
      }
    }
    for (const [employeeId, sales] of ds.salesBySalesperson) {
      assert.ok(ds.branchesOf(employeeId).length === 1);
      assert.equal(sales.length, 20);
      for (const sale of sales) {
        const ms = parseVendorTimestamp(sale.transaction_timestamp);
        assert.ok(ms !== undefined && ms >= ANCHOR - 5 * HOUR && ms < ANCHOR, sale.transaction_timestamp);
        assert.match(sale.amount, /^\d+\.\d{2}$/);
        assert.equal(typeof sale['extra_3'], 'string');
      }
    }
    assert.equal(ds.branchByName('scranton'), undefined);
  });

  it('rounds the salesperson share per branch', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, employeesPerBranch: 5, salespersonShare: 0.3 });
    for (const b of ds.branches) assert.equal(ds.salespersonsOf(b.id).length, 2);
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateDataset({ seed: 42, anchorTime: ANCHOR, extraFields: 1 });
    const b = generateDataset({ seed: 42, anchorTime: ANCHOR, extraFields: 1 });
    const c = generateDataset({ seed: 43, anchorTime: ANCHOR, extraFields: 1 });
    assert.deepStrictEqual(a, b);
    assert.notDeepStrictEqual(a.employeesByBranch, c.employeesByBranch);
    assert.notDeepStrictEqual(a.salesBySalesperson, c.salesBySalesperson);
  });

  it('rejects invalid options naming them', () => {
    assert.throws(() => generateDataset({ branches: 0 }), /branches must be an integer >= 1/);
    assert.throws(
      () => generateDataset({ salespersonShare: 2 }),
      /salespersonShare must be a number in 0..1/,
    );
  });
});

describe('simulator mutation', () => {
  /** Compares the dataset before and after and checks that the report names exactly the differences. */
  function checkReport(before: Dataset, after: Dataset, report: ReturnType<Dataset['mutate']>): void {
    const owner = (ds: Dataset): Map<number, number> => {
      const m = new Map<number, number>();
      for (const [employeeId, sales] of ds.salesBySalesperson) for (const s of sales) m.set(s.id, employeeId);
      return m;
    };
    const salesBefore = new Map(before.allSales().map((s) => [s.id, s]));
    const salesAfter = new Map(after.allSales().map((s) => [s.id, s]));
    const ownerAfter = owner(after);
    assert.deepEqual(owner(before), new Map([...ownerAfter].filter(([id]) => salesBefore.has(id))));
    for (const id of salesBefore.keys()) assert.ok(salesAfter.has(id), `sale ${id} vanished`);
    const added = [...salesAfter.keys()].filter((id) => !salesBefore.has(id));
    assert.deepEqual(
      added.map((saleId) => ({ saleId, employeeId: ownerAfter.get(saleId) })),
      report.newSales,
    );
    for (const { saleId } of report.newSales) {
      const ms = parseVendorTimestamp(salesAfter.get(saleId)?.transaction_timestamp ?? '');
      assert.ok(ms !== undefined && ms >= report.now - HOUR && ms < report.now);
      assert.ok(saleSchema.safeParse(salesAfter.get(saleId)).success);
    }
    const changed = [...salesBefore]
      .filter(([id, s]) => JSON.stringify(s) !== JSON.stringify(salesAfter.get(id)))
      .map(([id]) => id);
    assert.deepEqual(
      changed.sort((a, b) => a - b),
      report.correctedSales.map((c) => c.saleId).sort((a, b) => a - b),
    );
    for (const { saleId, employeeId } of report.correctedSales) {
      const was = salesBefore.get(saleId) as SaleRecord;
      const now = salesAfter.get(saleId) as SaleRecord;
      assert.equal(ownerAfter.get(saleId), employeeId);
      assert.notEqual(was.amount, now.amount);
      assert.notEqual(was.quantity, now.quantity);
      assert.deepEqual({ ...now, amount: was.amount, quantity: was.quantity }, was);
    }

    const memberships = (ds: Dataset): Set<string> => {
      const s = new Set<string>();
      for (const [branchId, list] of ds.employeesByBranch) for (const e of list) s.add(`${e.id}@${branchId}`);
      return s;
    };
    const mBefore = memberships(before);
    const mAfter = memberships(after);
    const expectAdded = report.transfers.map((t) => `${t.employeeId}@${t.toBranchId}`).sort();
    const expectRemoved = [
      ...report.departures.map((d) => `${d.employeeId}@${d.branchId}`),
      ...report.transfers.filter((t) => !t.keptUnderOld).map((t) => `${t.employeeId}@${t.fromBranchId}`),
    ].sort();
    assert.deepEqual([...mAfter].filter((m) => !mBefore.has(m)).sort(), expectAdded);
    assert.deepEqual([...mBefore].filter((m) => !mAfter.has(m)).sort(), expectRemoved);
    for (const t of report.transfers) {
      const record = after.employeesByBranch.get(t.toBranchId)?.find((e) => e.id === t.employeeId);
      const old = before.employeesByBranch.get(t.fromBranchId)?.find((e) => e.id === t.employeeId);
      assert.deepEqual(record, old);
      assert.equal(record?.occupation, 'salesperson');
    }
    for (const d of report.departures)
      assert.ok(after.salesBySalesperson.has(d.employeeId) === before.salesBySalesperson.has(d.employeeId));
    // Every record that is still listed is unchanged.
    for (const [branchId, list] of after.employeesByBranch) {
      for (const e of list) {
        const prior = [...before.employeesByBranch.values()].flat().find((x) => x.id === e.id);
        assert.deepEqual(e, prior, `employee ${e.id} under ${branchId} changed`);
      }
      assert.deepEqual(
        list.map((e) => e.id),
        list.map((e) => e.id).sort((a, b) => a - b),
      );
    }

    const branchDiff = after.branches
      .map((b) => {
        const was = before.branchById(b.id) ?? {};
        const fields = Object.keys({ ...was, ...b })
          .filter((k) => (was as Record<string, unknown>)[k] !== b[k])
          .sort();
        return { branchId: b.id, fields };
      })
      .filter((c) => c.fields.length > 0);
    assert.deepEqual(branchDiff, report.branchChanges);
    for (const b of after.branches) assert.equal(b.employees, after.employeesByBranch.get(b.id)?.length);
  }

  it('changes exactly what it reports (transfers kept under both branches)', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, extraFields: 2 });
    const before = ds.clone();
    assert.deepStrictEqual(before, ds);
    const report = ds.mutate({
      seed: 9,
      now: ANCHOR + 3 * HOUR + 123,
      newSales: 4,
      correctedSales: 3,
      transfers: 2,
      departures: 2,
      branchChanges: 3,
    });
    assert.equal(report.newSales.length, 4);
    assert.equal(report.correctedSales.length, 3);
    assert.equal(report.transfers.length, 2);
    assert.equal(report.departures.length, 2);
    assert.ok(report.branchChanges.length >= 3);
    for (const t of report.transfers) {
      assert.ok(t.keptUnderOld);
      assert.deepEqual(
        ds.branchesOf(t.employeeId),
        [t.fromBranchId, t.toBranchId].sort((a, b) => a - b),
      );
      assert.ok(
        report.branchChanges.some((c) => c.branchId === t.toBranchId && c.fields.includes('employees')),
      );
    }
    checkReport(before, ds, report);
  });

  it('changes exactly what it reports (transfers removed from the old branch), repeatedly', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, seed: 3 });
    for (let round = 0; round < 5; round++) {
      const before = ds.clone();
      const report = ds.mutate({
        seed: round,
        now: ANCHOR + round * HOUR,
        keepUnderOld: false,
        transfers: 3,
      });
      for (const t of report.transfers) assert.deepEqual(ds.branchesOf(t.employeeId), [t.toBranchId]);
      checkReport(before, ds, report);
    }
  });

  it('is deterministic for a mutation seed', () => {
    const a = generateDataset({ anchorTime: ANCHOR });
    const b = a.clone();
    assert.deepEqual(a.mutate({ seed: 5, now: ANCHOR }), b.mutate({ seed: 5, now: ANCHOR }));
    assert.deepStrictEqual(a, b);
  });

  it('serves the mutated data, and departed salespersons keep their sales', async () => {
    const sim = await start();
    const report = sim.mutate({ seed: 1, now: ANCHOR, departures: 0, newSales: 1 });
    const sale = report.newSales[0];
    assert.ok(sale);
    const reply = await get(sim, `/sales?salespersonsID=${sale.employeeId}`);
    assert.ok(listOf('/sales', reply.json).some((s) => field(s, 'id') === sale.saleId));
    const t = report.transfers[0];
    assert.ok(t);
    const under = await get(sim, `/employees?branchID=${t.toBranchId}`);
    assert.ok(listOf('/employees', under.json).some((e) => field(e, 'id') === t.employeeId));

    const dep = sim.mutate({ seed: 2, now: ANCHOR, departures: 12 * 13, newSales: 0, transfers: 0 });
    const gone = dep.departures.find((d) => sim.dataset.salesBySalesperson.has(d.employeeId));
    assert.ok(gone);
    const branch = await get(sim, `/employees?branchID=${gone.branchId}`);
    assert.ok(!listOf('/employees', branch.json).some((e) => field(e, 'id') === gone.employeeId));
    assert.equal((await get(sim, `/sales?salespersonsID=${gone.employeeId}`)).status, 200);
  });
});

describe('simulator HTTP API', () => {
  it('serves /branches by exact name, empty for unknown, and all without a name', async () => {
    const sim = await start({ extraFields: 2 });
    const scranton = await get(sim, '/branches?branch=Scranton');
    assert.equal(scranton.status, 200);
    assert.match(scranton.headers.get('content-type') ?? '', /application\/json/);
    assert.ok(branchesEnvelope.safeParse(scranton.json).success);
    assert.deepEqual(field(scranton.json, 'result'), [sim.dataset.branchByName('Scranton')]);
    assert.equal(field(scranton.json, 'next_page_token'), undefined);
    const ny = await get(sim, `/branches?branch=${encodeURIComponent('New York')}`);
    assert.equal(field(ny.json, 'result', 0, 'branch_name'), 'New York');
    assert.deepEqual((await get(sim, '/branches?branch=scranton')).json, { result: [] });
    assert.deepEqual((await get(sim, '/branches?branch=Nowhere')).json, { result: [] });
    const all = await get(sim, '/branches');
    assert.deepEqual(field(all.json, 'result'), sim.dataset.branches);
    for (const b of listOf('/branches', all.json)) {
      assert.ok(branchSchema.safeParse(b).success);
      assert.equal(typeof field(b, 'extra_2'), 'string');
    }
  });

  it('serves /employees and answers 404 for unknown and 400 for bad branch ids', async () => {
    const sim = await start();
    const branch = sim.dataset.branches[3];
    assert.ok(branch);
    const reply = await get(sim, `/employees?branchID=${branch.id}`);
    assert.equal(reply.status, 200);
    assert.ok(employeesEnvelope.safeParse(reply.json).success);
    assert.equal(field(reply.json, 'result', 'branch_id'), branch.id);
    assert.deepEqual(field(reply.json, 'result', 'employees'), sim.dataset.employeesByBranch.get(branch.id));
    for (const e of listOf('/employees', reply.json)) assert.ok(employeeSchema.safeParse(e).success);

    const unknown = await get(sim, '/employees?branchID=3');
    assert.equal(unknown.status, 404);
    assert.equal(typeof field(unknown.json, 'error'), 'string');
    for (const bad of ['abc', '1.5', '', '12abc']) {
      const r = await get(sim, `/employees?branchID=${bad}`);
      assert.equal(r.status, 400, bad);
      assert.match(String(field(r.json, 'error')), /branchID/);
    }
    assert.equal((await get(sim, '/employees')).status, 400);
  });

  it('serves /sales with the from/to window, 404 for unknown and 400 for bad parameters', async () => {
    const sim = await start();
    const id = someSalesperson(sim.dataset);
    const all = sim.dataset.salesBySalesperson.get(id) ?? [];
    const reply = await get(sim, `/sales?salespersonsID=${id}`);
    assert.equal(reply.status, 200);
    assert.ok(salesEnvelope.safeParse(reply.json).success);
    assert.equal(field(reply.json, 'result', 'employee_id'), id);
    assert.deepEqual(field(reply.json, 'result', 'sales'), all);
    for (const s of listOf('/sales', reply.json)) assert.ok(saleSchema.safeParse(s).success);

    // A window whose edges are existing timestamps checks both inclusive from and exclusive to.
    const stamps = all.map((s) => s.transaction_timestamp).sort();
    const from = stamps[3] ?? '';
    const to = stamps[12] ?? '';
    const expected = all.filter((s) => s.transaction_timestamp >= from && s.transaction_timestamp < to);
    assert.ok(expected.length >= 8 && expected.length < all.length);
    const windowed = await get(
      sim,
      `/sales?salespersonsID=${id}&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`,
    );
    assert.deepEqual(field(windowed.json, 'result', 'sales'), expected);
    const onlyFrom = await get(sim, `/sales?salespersonsID=${id}&from=${encodeURIComponent(from)}`);
    assert.equal(
      listOf('/sales', onlyFrom.json).length,
      all.filter((s) => s.transaction_timestamp >= from).length,
    );
    const onlyTo = await get(sim, `/sales?salespersonsID=${id}&to=${encodeURIComponent(to)}`);
    assert.equal(
      listOf('/sales', onlyTo.json).length,
      all.filter((s) => s.transaction_timestamp < to).length,
    );

    for (const bad of ['2024-01-15T10:00:00Z', '2023-02-30 10:00:00', 'yesterday']) {
      const r = await get(sim, `/sales?salespersonsID=${id}&from=${encodeURIComponent(bad)}`);
      assert.equal(r.status, 400, bad);
      assert.match(String(field(r.json, 'error')), /from/);
    }
    assert.equal((await get(sim, `/sales?salespersonsID=${id}&to=2024`)).status, 400);
    assert.equal((await get(sim, '/sales?salespersonsID=x')).status, 400);
    assert.equal((await get(sim, '/sales')).status, 400);
    assert.equal((await get(sim, '/sales?salespersonsID=1')).status, 404);
    const clerk = [...sim.dataset.employeesByBranch.values()]
      .flat()
      .find((e) => e.occupation !== 'salesperson');
    assert.equal((await get(sim, `/sales?salespersonsID=${clerk?.id}`)).status, 404);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const sim = await start();
    const r = await get(sim, '/nope');
    assert.equal(r.status, 404);
    assert.equal(typeof field(r.json, 'error'), 'string');
    assert.equal((await get(sim, '/branches/')).status, 404);
    const post = await fetch(`${sim.url}/branches`, { method: 'POST', headers: { 'x-api-key': KEY } });
    assert.equal(post.status, 405);
    await post.text();
  });

  it('paginates all three paths to the same lists as unpaginated, for page sizes 1, 7 and 500', async () => {
    const sim = await start({ salesPerSalesperson: 23 });
    const branch = sim.dataset.branches[1];
    assert.ok(branch);
    const sp = someSalesperson(sim.dataset);
    const cases: [string, string][] = [
      ['/branches', ''],
      ['/branches', 'branch=Akron'],
      ['/employees', `branchID=${branch.id}`],
      ['/sales', `salespersonsID=${sp}`],
      [
        '/sales',
        `salespersonsID=${sp}&from=${encodeURIComponent(formatVendorTimestamp(ANCHOR - 10 * HOUR))}`,
      ],
    ];
    for (const [path, query] of cases) {
      const whole = await get(sim, `${path}?${query}`);
      const expected = listOf(path, whole.json);
      assert.ok(expected.length > 0);
      for (const size of [1, 7, 500]) {
        assert.deepEqual(
          await fetchAllPages(sim, path, query, size),
          expected,
          `${path}?${query} size ${size}`,
        );
      }
    }
    const first = await get(sim, `/employees?branchID=${branch.id}&page_size=5`);
    assert.equal(listOf('/employees', first.json).length, 5);
    assert.equal(typeof field(first.json, 'next_page_token'), 'string');
    const exact = await get(sim, `/employees?branchID=${branch.id}&page_size=12`);
    assert.equal(field(exact.json, 'next_page_token'), null);
  });

  it('rejects bad page sizes and page tokens of other queries', async () => {
    const sim = await start();
    const [a, b] = sim.dataset.branches;
    assert.ok(a && b);
    for (const size of ['0', '501', 'x', '-1', '2.5', '']) {
      const r = await get(sim, `/employees?branchID=${a.id}&page_size=${size}`);
      assert.equal(r.status, 400, size);
      assert.match(String(field(r.json, 'error')), /page_size/);
    }
    const first = await get(sim, `/employees?branchID=${a.id}&page_size=2`);
    const token = String(field(first.json, 'next_page_token'));
    const own = await get(sim, `/employees?branchID=${a.id}&page_size=2&page_token=${token}`);
    assert.equal(own.status, 200);
    const foreign = await get(sim, `/employees?branchID=${b.id}&page_size=2&page_token=${token}`);
    assert.equal(foreign.status, 400);
    assert.match(String(field(foreign.json, 'error')), /page_token/);
    assert.equal((await get(sim, `/branches?page_size=2&page_token=${token}`)).status, 400);
    assert.equal((await get(sim, `/employees?branchID=${a.id}&page_token=garbage`)).status, 400);
    const sp = someSalesperson(sim.dataset);
    const salesFirst = await get(sim, `/sales?salespersonsID=${sp}&page_size=2`);
    const salesToken = String(field(salesFirst.json, 'next_page_token'));
    const otherWindow = await get(
      sim,
      `/sales?salespersonsID=${sp}&page_size=2&from=2024-01-01%2000:00:00&page_token=${salesToken}`,
    );
    assert.equal(otherWindow.status, 400);
  });

  it('answers 401 without or with a wrong key, and 401s take no quota', async () => {
    const sim = await start({ apiKeys: ['k1', 'k2'], quota: 2 });
    assert.ok(!JSON.stringify(sim.dataset.options).includes('k1'), 'keys stay out of the data');
    for (const key of [null, 'wrong', 'K1', '']) {
      const r = await get(sim, '/branches?branch=Scranton', key);
      assert.equal(r.status, 401, String(key));
      assert.equal(typeof field(r.json, 'error'), 'string');
      assert.ok(!r.text.includes('k1'));
    }
    assert.equal((await get(sim, '/branches', 'k1')).status, 200);
    assert.equal((await get(sim, '/branches', 'k1')).status, 200);
    assert.equal((await get(sim, '/branches', 'k2')).status, 200, 'each key has its own bucket');
    const c = sim.counters();
    assert.equal(c.unauthorized401, 4);
    assert.equal(c.byStatus[401], 4);
    assert.equal(c.throttled429, 0);
  });

  for (const mode of ['seconds', 'zero', 'fractional', 'absent'] as RetryAfterMode[]) {
    it(`answers 429 beyond the quota with Retry-After in mode ${mode}`, async () => {
      const sim = await start({ quota: 5, retryAfterMode: mode });
      const replies = await Promise.all(Array.from({ length: 20 }, () => get(sim, '/branches?branch=Utica')));
      const ok = replies.filter((r) => r.status === 200);
      const limited = replies.filter((r) => r.status === 429);
      assert.equal(ok.length + limited.length, 20);
      // Five tokens up front, plus one per 200 ms while the burst lasts.
      assert.ok(ok.length >= 5 && ok.length <= 8, `ok ${ok.length}`);
      assert.ok(limited.length >= 12);
      for (const r of limited) {
        assert.deepEqual(r.json, { error: 'rate limited' });
        const header = r.headers.get('retry-after');
        if (mode === 'seconds') assert.ok(header !== null && /^[1-9]\d*$/.test(header), String(header));
        if (mode === 'zero') assert.equal(header, '0');
        if (mode === 'fractional') {
          assert.ok(header !== null && /^\d*\.\d+$/.test(header), String(header));
          assert.ok(Number(header) > 0 && Number(header) <= 0.2);
        }
        if (mode === 'absent') assert.equal(header, null);
      }
      assert.equal(sim.counters().throttled429, limited.length);
      // The bucket refills at quota per second.
      await new Promise((r) => setTimeout(r, 450));
      assert.equal((await get(sim, '/branches?branch=Utica')).status, 200);
    });
  }

  it('changes quota and latency at run time', async () => {
    const sim = await start({ quota: 0 });
    const burst = await Promise.all(Array.from({ length: 30 }, () => get(sim, '/branches')));
    assert.ok(burst.every((r) => r.status === 200));
    sim.setQuota(2);
    const limited = await Promise.all(Array.from({ length: 6 }, () => get(sim, '/branches')));
    assert.equal(limited.filter((r) => r.status === 429).length, 4);
    sim.setQuota(0);
    sim.setLatency(150);
    const t0 = performance.now();
    assert.equal((await get(sim, '/branches')).status, 200);
    assert.ok(performance.now() - t0 >= 140);
    sim.setLatency(0);
    const t1 = performance.now();
    await get(sim, '/branches');
    assert.ok(performance.now() - t1 < 140);
    assert.throws(() => sim.setQuota(-1), /quota/);
    assert.throws(() => sim.setFaults({ drop: 2 }), /faults\.drop/);
  });

  it('counts requests per path, statuses, and the peak rate', async () => {
    const sim = await start({ quota: 10 });
    await get(sim, '/branches');
    sim.resetCounters();
    const started = Date.now();
    const sp = someSalesperson(sim.dataset);
    const paths = [
      ...Array.from({ length: 4 }, () => '/branches'),
      ...Array.from({ length: 3 }, () => '/employees?branchID=100'),
      ...Array.from({ length: 5 }, () => `/sales?salespersonsID=${sp}`),
      '/else',
      '/else',
    ];
    const replies = await Promise.all(paths.map((p) => get(sim, p)));
    const c = sim.counters();
    assert.deepEqual(c.requests, { '/branches': 4, '/employees': 3, '/sales': 5, other: 2 });
    assert.equal(c.total, 14);
    assert.equal(c.peakRatePerSecond, 14);
    const statuses: Record<number, number> = {};
    for (const r of replies) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    assert.deepEqual(c.byStatus, statuses);
    assert.equal(c.throttled429, statuses[429]);
    assert.ok((statuses[429] ?? 0) >= 4, 'quota 10 with 14 requests in a burst');
    assert.ok(c.firstRequestAt !== null && c.firstRequestAt >= started);
    assert.ok(c.lastRequestAt !== null && c.lastRequestAt >= c.firstRequestAt);
    sim.resetCounters();
    assert.equal(sim.counters().total, 0);
    assert.equal(sim.counters().firstRequestAt, null);
  });

  it('rejects a busy port with a clear message', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const address = blocker.address();
    assert.ok(address !== null && typeof address === 'object');
    try {
      await assert.rejects(
        VendorSimulator.start({ port: address.port }),
        new RegExp(`port ${address.port} is busy; set SIM_PORT or --port to a free port`),
      );
    } finally {
      blocker.close();
    }
  });

  it('rejects invalid options naming them', async () => {
    await assert.rejects(VendorSimulator.start({ quota: 0.5 }), /quota must be 0/);
    await assert.rejects(VendorSimulator.start({ apiKeys: [] }), /apiKeys/);
    await assert.rejects(
      VendorSimulator.start({ retryAfterMode: 'never' as RetryAfterMode }),
      /retryAfterMode/,
    );
  });
});

describe('simulator faults', () => {
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

describe('simulator command line', () => {
  it('parses flags over environment, and names the flag or variable on bad values', () => {
    const cmd = parseSimCommandLine(['--port', '9000', '--quota=5', '--faults', 'drop=0.1,html=0.2'], {
      SIM_PORT: '1',
      SIM_SEED: '7',
      SIM_RETRY_AFTER: 'fractional',
      VENDOR_API_KEY: 'secret-key',
    });
    assert.ok(!cmd.help);
    assert.equal(cmd.options.port, 9000);
    assert.equal(cmd.options.seed, 7);
    assert.equal(cmd.options.quota, 5);
    assert.equal(cmd.options.retryAfterMode, 'fractional');
    assert.deepEqual(cmd.options.faults, { drop: 0.1, html: 0.2 });
    assert.deepEqual(cmd.options.apiKeys, ['secret-key']);
    assert.equal(cmd.keySource, 'from VENDOR_API_KEY');
    const withSimKey = parseSimCommandLine([], { SIM_API_KEY: 'a,b', VENDOR_API_KEY: 'c' });
    assert.ok(!withSimKey.help);
    assert.deepEqual(withSimKey.options.apiKeys, ['a', 'b']);
    assert.equal(withSimKey.options.port, 8080);

    assert.throws(
      () => parseSimCommandLine(['--port', 'abc'], {}),
      /invalid --port "abc": expected an integer/,
    );
    assert.throws(() => parseSimCommandLine([], { SIM_QUOTA: 'lots' }), /invalid SIM_QUOTA "lots"/);
    assert.throws(() => parseSimCommandLine(['--faults', 'boom=1'], {}), /--faults.*kind=rate/);
    assert.throws(() => parseSimCommandLine(['--retry-after', 'later'], {}), /--retry-after.*seconds, zero/);
    assert.throws(() => parseSimCommandLine(['--nope'], {}), /--help/);
    assert.throws(
      () => parseSimCommandLine(['--api-key', ','], {}),
      (err: Error) => err.message.startsWith('invalid --api-key:'),
    );
    assert.deepEqual(parseSimCommandLine(['--help'], {}), { help: true });
  });

  /** Runs src/sim/main.ts as its own process. */
  function runMain(args: string[], env: Record<string, string> = {}) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/sim/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, SIM_PORT: '', VENDOR_API_KEY: '', SIM_API_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    return { child, exited, out: () => stdout, err: () => stderr };
  }

  it('runs alone, prints its URL but not the key, serves, and stops on SIGTERM', async () => {
    const run = runMain(['--port', '0', '--branches', '2'], { VENDOR_API_KEY: 'k-top-secret' });
    let url: string | undefined;
    for (let i = 0; i < 200 && url === undefined; i++) {
      url = /listening on (http:\/\/\S+)/.exec(run.out())?.[1];
      if (url === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `no URL printed: ${run.out()} ${run.err()}`);
    const res = await fetch(`${url}/branches`, { headers: { 'x-api-key': 'k-top-secret' } });
    assert.equal(res.status, 200);
    assert.equal(field(await res.json(), 'result', 1, 'branch_name'), 'Akron');
    assert.match(run.out(), /VENDOR_API_KEY/);
    assert.ok(!run.out().includes('k-top-secret'));
    run.child.kill('SIGTERM');
    assert.equal(await run.exited, 0);
  });

  it('exits 2 naming the flag on a bad value, and documents every flag in --help', async () => {
    const bad = runMain(['--latency-ms', 'soon']);
    assert.equal(await bad.exited, 2);
    assert.match(bad.err(), /invalid --latency-ms "soon": expected a number >= 0/);
    const help = runMain(['--help']);
    assert.equal(await help.exited, 0);
    for (const flag of [
      '--port',
      '--seed',
      '--branches',
      '--quota',
      '--latency-ms',
      '--api-key',
      '--faults',
    ]) {
      assert.ok(help.out().includes(flag), flag);
    }
    assert.match(help.out(), /SIM_PORT/);
  });
});
