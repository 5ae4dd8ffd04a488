/**
 * The sweeps' cost in vendor requests per day (scripts/bench/sweeps.ts, BENCHMARKS.md "Sweeps:
 * what they cost"): computed from the dataset with requestsNeeded, no stack.
 */
import assert from 'node:assert/strict';
import { DEFAULT_SWEEP_PLAN, benchDataset, sweepCost, sweepCostReport } from '../scripts/bench/sweeps.js';
import { DEFAULTS, parseSettings } from '../scripts/bench/settings.js';
import { requestsNeeded } from '../src/sim/expected.js';
import { generateDataset } from '../src/sim/index.js';
import { ANCHOR, HOUR } from './helpers/sim-client.js';

const DAY = 24 * HOUR;

describe('bench: what the sweeps cost', () => {
  it('without sales every run costs the same: the sweeps add (1 + 1/7) / 24', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, salesPerSalesperson: 0, branches: 3 });
    const names = ds.branches.map((b) => b.branch_name);
    const c = sweepCost(ds, names, 5, ANCHOR);
    // 3 lookups, 3 employee pages of 12 at 5 per page each, one (empty) sales page per salesperson.
    const one = 3 + 3 * 3 + 3 * 6;
    assert.deepEqual([c.hourlyRun, c.lookbackSweep, c.fullSweep], [one, one, one]);
    assert.deepEqual(c.perDay, {
      hourly: 24 * one,
      lookback: one,
      full: one / 7,
      total: 24 * one + one + one / 7,
    });
    assert.ok(Math.abs(c.sweepsAdd - (1 + 1 / 7) / 24) < 1e-12);
  });

  it('counts each window with requestsNeeded, and nothing for a sweep switched off', () => {
    const ds = generateDataset({ anchorTime: ANCHOR, salesPerSalesperson: 60, salesSpanHours: 30 * 24 });
    const names = ds.branches.map((b) => b.branch_name).slice(0, 5);
    const window = (ms: number) => ({
      from: new Date(ANCHOR - ms).toISOString(),
      to: new Date(ANCHOR).toISOString(),
    });
    const c = sweepCost(ds, names, 7, ANCHOR);
    assert.equal(c.hourlyRun, requestsNeeded(ds, names, 7, window(DAY)).total);
    assert.equal(c.lookbackSweep, requestsNeeded(ds, names, 7, window(7 * DAY)).total);
    assert.equal(c.fullSweep, requestsNeeded(ds, names, 7).total);
    assert.ok(c.hourlyRun < c.lookbackSweep && c.lookbackSweep < c.fullSweep, JSON.stringify(c));
    assert.equal(c.perDay.lookback, c.lookbackSweep);
    assert.equal(c.perDay.full, c.fullSweep / 7);
    assert.equal(c.sweepsAdd, (c.perDay.lookback + c.perDay.full) / c.perDay.hourly);
    const twiceDaily = sweepCost(ds, names, 7, ANCHOR, { ...DEFAULT_SWEEP_PLAN, lookbackEveryHours: 12 });
    assert.equal(twiceDaily.perDay.lookback, 2 * c.lookbackSweep);
    const off = sweepCost(ds, names, 7, ANCHOR, { ...DEFAULT_SWEEP_PLAN, lookbackDays: 0, fullEveryDays: 0 });
    assert.deepEqual([off.lookbackSweep, off.fullSweep, off.sweepsAdd], [0, 0, 0]);
  });

  it('is a bench option that needs no stack, and prints a row per history length', () => {
    const cfg = parseSettings(['--sweep-cost']);
    assert.ok(cfg !== 'help' && cfg.sweepCost);
    const plain = parseSettings([]);
    assert.ok(plain !== 'help' && !plain.sweepCost);
    const small = parseSettings(['--branches', '2', '--salespersons', '3', '--sales', '40']);
    assert.ok(small !== 'help');
    const { text, asBenchmarked } = sweepCostReport(small, ANCHOR);
    assert.match(text, /2 branches x 3 salespersons x 40 sales, page size 20/);
    for (const row of ['as benchmarked (20 h)', 'spread over 30 days', 'spread over 365 days'])
      assert.match(text, new RegExp(`${row.replace(/[()]/g, '\\$&')}.*\\d+\\.\\d%`));
    const ds = benchDataset(small, ANCHOR);
    const names = ds.branches.map((b) => b.branch_name);
    assert.deepEqual(
      asBenchmarked,
      sweepCost(ds, names, small.pageSize, ANCHOR),
      'the first row, for the JSON',
    );
    assert.equal(DEFAULTS.pageSize, 20);
  });
});
