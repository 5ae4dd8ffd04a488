/** The simulator's HTTP API: the three paths, pagination, authentication, quota and Retry-After, counters. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import {
  branchSchema,
  branchesEnvelope,
  employeeSchema,
  employeesEnvelope,
  formatVendorTimestamp,
  saleSchema,
  salesEnvelope,
} from '../src/vendor-api/schemas.js';
import type { RetryAfterMode } from '../src/sim/index.js';
import { VendorSimulator } from '../src/sim/index.js';
import {
  ANCHOR,
  HOUR,
  KEY,
  fetchAllPages,
  field,
  get,
  listOf,
  someSalesperson,
  useSimulators,
} from './helpers/sim-client.js';

describe('simulator HTTP API', () => {
  const start = useSimulators();

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
    // Quota 2: a burst of 14 gets at least 4 x 429 unless it is spread over more than 4 s, so a
    // loaded machine cannot make the count flaky (quota 10 failed once under CI load).
    const sim = await start({ quota: 2 });
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
    assert.ok((statuses[429] ?? 0) >= 4, 'quota 2 with 14 requests in a burst');
    assert.ok(c.firstRequestAt !== null && c.firstRequestAt >= started);
    assert.ok(c.lastRequestAt !== null && c.lastRequestAt >= c.firstRequestAt);
    sim.resetCounters();
    assert.equal(sim.counters().total, 0);
    assert.equal(sim.counters().firstRequestAt, null);
  });

  it('mutates over POST /_sim/mutate: only the counts named, uncounted, keyed, and checked', async () => {
    const sim = await start({ quota: 1000 });
    const before = sim.dataset.clone();
    const post = (query: string, key: string | null = KEY) =>
      fetch(`${sim.url}/_sim/mutate${query}`, {
        method: 'POST',
        headers: key === null ? {} : { 'x-api-key': key },
      }).then(async (r) => ({ status: r.status, json: await r.json() }));
    const voided = await post(`?voids=1&seed=3&now=${ANCHOR}`);
    assert.equal(voided.status, 200, JSON.stringify(voided.json));
    const v = field(voided.json, 'voids', 0) as { saleId: number; employeeId: number };
    assert.equal(typeof v.saleId, 'number');
    for (const key of ['newSales', 'correctedSales', 'transfers', 'departures', 'branchChanges'])
      assert.deepEqual(field(voided.json, key), [], `${key}: a count not named is 0`);
    const sales = await get(sim, `/sales?salespersonsID=${v.employeeId}`);
    assert.ok(!listOf('/sales', sales.json).some((s) => field(s, 'id') === v.saleId), 'no longer listed');
    assert.deepEqual(sim.dataset.employeesByBranch, before.employeesByBranch);

    const back = await post('?reappearances=1');
    assert.equal(field(back.json, 'reappearances', 0, 'saleId'), v.saleId);
    const again = await get(sim, `/sales?salespersonsID=${v.employeeId}`);
    assert.deepEqual(field(again.json, 'result', 'sales'), before.salesBySalesperson.get(v.employeeId));

    assert.equal((await post('?voids=1', 'wrong')).status, 401);
    const bad = await post('?voids=-1');
    assert.equal(bad.status, 400);
    assert.match(String(field(bad.json, 'error')), /voids/);
    assert.match(String(field((await post('?nope=1')).json, 'error')), /nope.*voids/s);
    assert.match(String(field((await post('')).json, 'error')), /at least one/);
    assert.equal((await get(sim, '/_sim/mutate?voids=1')).status, 405);
    assert.equal((await get(sim, '/_sim/else')).status, 404);
    assert.equal(sim.counters().total, 2, 'control requests are not vendor traffic');
    assert.equal(sim.counters().requests['/sales'], 2);
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
