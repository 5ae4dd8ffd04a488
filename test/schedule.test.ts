/**
 * The schedule, backfills, search attributes and the vendor quota, on the Temporal CLI dev
 * server (the time-skipping test server does not implement schedules: it answers
 * "Failed to create schedule"), with DynamoDB Local and the simulator.
 */
import assert from 'node:assert/strict';
import { ScheduleNotFoundError } from '@temporalio/client';
import {
  backfill,
  listRuns,
  runOutcome,
  scheduleHandle,
  startRun,
  sweepScheduleId,
  upsertSchedule,
} from '../src/client.js';
import { main as cli } from '../src/cli/index.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { SCHEDULE_ID } from '../src/shared/ids.js';
import { SYNC_KIND, SYNC_WINDOW_END } from '../src/shared/search-attributes.js';
import type { SyncSummary } from '../src/shared/summary.js';
import { waitFor } from '../scripts/lib/poll.js';
import { useStack } from './helpers/harness.js';
import { syncedBefore } from './helpers/synced-before.js';
import { assertTablesMatch, expectedTables } from './helpers/truth.js';

const HOUR = 3_600_000;

/** Polls every 300 ms (the dev server's visibility is eventually consistent). */
const until = <T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>) =>
  waitFor(what, timeoutMs, fn, 300);

describe('schedule and quota (dev server, DynamoDB Local, simulator)', function () {
  this.timeout(240_000);
  const stack = useStack('dev-server');
  const pipeline = stack.pipeline;

  it('the schedule runs every hour on the hour, with the overlap policy and catchup window set', async () => {
    const p = await pipeline({ seed: 3 });
    const scheduleId = `hourly-${p.queues.workflows}`;
    assert.equal(
      await upsertSchedule(stack.env.client, { scheduleId, queues: p.queues, input: {} }),
      'created',
    );
    assert.equal(
      await upsertSchedule(stack.env.client, {
        scheduleId,
        queues: p.queues,
        input: { branches: ['Akron'] },
      }),
      'updated',
    );
    const d = await (await scheduleHandle(stack.env.client, scheduleId)).describe();
    const next = d.info.nextActionTimes.map((t) => t.getTime());
    assert.ok(next.length >= 3);
    for (const t of next) assert.equal(t % HOUR, 0, `${new Date(t).toISOString()} is on the hour`);
    for (let i = 1; i < next.length; i++) assert.equal((next[i] ?? 0) - (next[i - 1] ?? 0), HOUR);
    assert.equal(d.policies.overlap, 'BUFFER_ONE');
    assert.equal(d.policies.catchupWindow, HOUR);
    assert.deepEqual((d.action as { args?: unknown[] }).args?.[0], {
      vendorTaskQueue: p.queues.vendor,
      branches: ['Akron'],
    });
    await (await scheduleHandle(stack.env.client, scheduleId)).delete();
  });

  it('a 3-hour backfill makes 3 runs over the 3 windows before each scheduled hour', async () => {
    const anchor = Math.floor(Date.now() / HOUR) * HOUR;
    const p = await pipeline({
      seed: 4,
      anchorTime: anchor,
      salesSpanHours: 30,
      employeesPerBranch: 4,
      salesPerSalesperson: 30,
    });
    // Both branches were synced before, up to the first window's start (plus the watermark's
    // overlap), their salespersons' histories read: each run reads its own window only.
    await syncedBefore(
      p.state,
      p.sim.dataset,
      ['Scranton', 'Stamford'],
      new Date(anchor - 28 * HOUR).toISOString(),
    );
    const scheduleId = `backfill-${p.queues.workflows}`;
    await upsertSchedule(stack.env.client, {
      scheduleId,
      queues: p.queues,
      input: { branches: ['Scranton', 'Stamford'] },
    });
    const handle = await scheduleHandle(stack.env.client, scheduleId);
    await handle.pause('test: only the backfill runs');
    const from = new Date(anchor - 5 * HOUR);
    const to = new Date(anchor - 2 * HOUR);
    assert.equal(await backfill(handle, from, to), 3);
    const summaries = await p.withWorkers(() =>
      until('3 completed backfill runs', 180_000, async () => {
        const d = await handle.describe();
        const ids = d.info.recentActions.map((a) => a.action.workflow.workflowId);
        if (ids.length < 3 || d.info.runningActions.length > 0) return undefined;
        const out: SyncSummary[] = [];
        for (const id of ids) {
          const o = await runOutcome(stack.env.client.workflow.getHandle(id));
          if (!o.summary) return undefined;
          out.push(o.summary);
        }
        return out;
      }),
    );
    const ends = summaries.map((s) => s.window.to).sort();
    assert.deepEqual(
      ends,
      [5, 4, 3].map((h) => new Date(anchor - h * HOUR).toISOString()),
    );
    for (const s of summaries) {
      assert.equal(Date.parse(s.window.to) - Date.parse(s.window.from ?? ''), 24 * HOUR);
      assert.equal(s.branchesSynced, 2);
    }
    // The union of the three windows is what the tables hold.
    const union = {
      from: new Date(anchor - 29 * HOUR).toISOString(),
      to: new Date(anchor - 3 * HOUR).toISOString(),
    };
    await assertTablesMatch(p.store, expectedTables(p.sim.dataset, ['Scranton', 'Stamford'], union));
    await handle.delete();
  });

  it('at the default quota the simulator sends no 429: the task-queue rate limit held the rate', async () => {
    const quota = 20;
    const p = await pipeline(
      { seed: 8, quota, latencyMs: 20, employeesPerBranch: 8, salesPerSalesperson: 25 },
      { quotaRps: quota },
    );
    const started = Date.now();
    const summary = await p.withWorkers(async () => {
      const h = await startRun(
        stack.env.client,
        p.queues,
        { window: 'full', salespersonConcurrency: 16 },
        `quota-${p.queues.workflows}`,
      );
      return (await runOutcome(h)).summary;
    }, 10);
    const wall = (Date.now() - started) / 1000;
    const c = p.sim.counters();
    assert.equal(c.throttled429, 0, `429s sent: ${c.throttled429} (peak ${c.peakRatePerSecond}/s)`);
    assert.equal(c.total, summary?.pages, 'one request per page: no retries were needed');
    assert.ok(c.total >= 150, `enough requests to test the rate (${c.total})`);
    assert.ok(wall >= c.total / quota - 2, `took ${wall}s for ${c.total} requests at ${quota}/s`);
    console.log(
      `      ${c.total} requests in ${wall.toFixed(1)} s at quota ${quota}/s (bound ${(c.total / quota).toFixed(1)} s), peak ${c.peakRatePerSecond}/s, 0 x 429`,
    );
    await assertTablesMatch(p.store, expectedTables(p.sim.dataset, DEFAULT_BRANCHES));
  });

  it('runs are readable in the Web UI: IDs say what they are, search attributes are set on every child', async () => {
    const p = await pipeline({ seed: 9, employeesPerBranch: 4, salesPerSalesperson: 3 });
    const windowEnd = '2026-05-01T10:00:00.000Z';
    const h = await p.withWorkers(async () => {
      const run = await startRun(stack.env.client, p.queues, { branches: ['Akron', 'Nowhere'], windowEnd });
      await run.result();
      return run;
    });
    assert.equal(h.workflowId, 'sales-sync-manual-2026-05-01T10:00:00Z');
    const children = await until('children in visibility', 30_000, async () => {
      const found = [];
      for await (const wf of stack.env.client.workflow.list({ query: `SyncBranch = 'Akron'` })) {
        // Other tests sync Akron too; this run's children are under its window.
        if (wf.workflowId.startsWith('sales-sync/2026-05-01T10:00:00Z/')) found.push(wf);
      }
      return found.length >= 3 ? found : undefined;
    });
    for (const c of children) {
      assert.equal(c.typedSearchAttributes.get(SYNC_WINDOW_END)?.toISOString(), windowEnd, c.workflowId);
      assert.ok(
        ['branch', 'salesperson'].includes(c.typedSearchAttributes.get(SYNC_KIND) ?? ''),
        c.workflowId,
      );
    }
    const ids = children.map((c) => c.workflowId).sort();
    assert.ok(ids.includes('sales-sync/2026-05-01T10:00:00Z/24h/branch/Akron'), ids.join(', '));
    // A salesperson child is named by the window (end and length), the salesperson and the parent run (one per run).
    const { runId } = await h.describe();
    assert.ok(
      ids.some((id) =>
        new RegExp(`^sales-sync/2026-05-01T10:00:00Z/24h/salesperson/\\d+/run/${runId}$`).test(id),
      ),
      ids.join(', '),
    );
    const rows = await until('the run in the list', 30_000, async () => {
      const r = await listRuns(stack.env.client, 20);
      return r.some((x) => x.workflowId === h.workflowId && x.status === 'COMPLETED') ? r : undefined;
    });
    const row = rows.find((x) => x.workflowId === h.workflowId);
    assert.match(row?.summary ?? '', /1\/2 branches.*unknown branches: Nowhere/);
  });

  it('the project CLI drives the schedule and lists runs; every command has --help; mistakes exit 2', async () => {
    const p = await pipeline({ seed: 12, employeesPerBranch: 2, salesPerSalesperson: 2 });
    const saved = { ...process.env };
    const out: string[] = [];
    const log = console.log;
    const error = console.error;
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    console.error = (...a: unknown[]) => void out.push(a.join(' '));
    try {
      process.env.TEMPORAL_ADDRESS = stack.env.address;
      // This suite's workers do not encrypt: the CLI must be told so explicitly.
      process.env.PAYLOAD_ENCRYPTION = 'off';
      for (const v of ['PAYLOAD_ENCRYPTION_KEY', 'PAYLOAD_ENCRYPTION_KEY_ID', 'PAYLOAD_DECRYPTION_KEYS'])
        delete process.env[v];
      process.env.TASK_QUEUE_SUFFIX = p.queues.workflows.replace('sales-sync-workflows', '');
      process.env.SYNC_BRANCHES = 'Akron';
      process.env.WATERMARK_OVERLAP_MINUTES = '45';
      process.env.VOID_GUARD_PERCENT = '15';
      process.env.SWEEP_FULL_EVERY_DAYS = '14';
      const suffix = process.env.TASK_QUEUE_SUFFIX;
      assert.equal(await cli(['schedule', 'create']), 0);
      const hourly = await (await scheduleHandle(stack.env.client)).describe();
      assert.deepEqual((hourly.action as { args?: unknown[] }).args?.[0], {
        vendorTaskQueue: p.queues.vendor,
        branches: ['Akron'],
        windowHours: 24,
        branchConcurrency: 4,
        salespersonConcurrency: 16,
        watermarkOverlapMinutes: 45,
        voidGuardPercent: 15,
      });
      for (const kind of ['lookback', 'full'] as const)
        assert.ok(
          out.some((l) => l.startsWith(`schedule ${sweepScheduleId(kind, suffix)} created: `)),
          out.join('\n'),
        );
      assert.ok(
        out.some((l) => /every 14 days/.test(l)),
        out.join('\n'),
      );
      assert.equal(await cli(['schedule', 'pause', '--note', 'maintenance']), 0);
      out.length = 0;
      assert.equal(await cli(['schedule', 'describe']), 0);
      // The sweeps are paused and shown with the hourly schedule.
      for (const id of [SCHEDULE_ID, sweepScheduleId('lookback', suffix), sweepScheduleId('full', suffix)])
        assert.ok(
          out.some((l) => l.startsWith(`schedule ${id}: paused (maintenance)`)),
          `${id}:\n${out.join('\n')}`,
        );
      assert.equal(await cli(['schedule', 'unpause']), 0);
      await p.withWorkers(async () => {
        assert.equal(await cli(['schedule', 'trigger']), 0);
        await until('the triggered run to finish', 60_000, async () => {
          const d = await (await scheduleHandle(stack.env.client)).describe();
          return d.info.recentActions.length > 0 && d.info.runningActions.length === 0 ? true : undefined;
        });
        assert.equal(
          await cli(['run', '--branches', 'Akron,Nowhere', '--window-end', '2026-02-01T00:00:00Z']),
          0,
        );
      });
      assert.ok(
        out.some((l) => /1\/2 branches.*unknown branches: Nowhere/.test(l)),
        out.join('\n'),
      );
      assert.equal(await cli(['list', '--limit', '5']), 0);
      assert.ok(out.some((l) => l.includes('sales-sync-manual-2026-02-01T00:00:00Z')));
      for (const c of [
        ['schedule', 'create'],
        ['schedule', 'backfill'],
        ['run'],
        ['progress'],
        ['list'],
        ['tables', 'create'],
      ]) {
        out.length = 0;
        assert.equal(await cli([...c, '--help']), 0);
        assert.match(out.join('\n'), /^usage: npm run cli -- /);
      }
      assert.equal(await cli(['schedule', 'backfill', '--from', 'yesterday']), 2);
      assert.ok(out.some((l) => /--from=yesterday is not a time/.test(l)));
      // A replay of a window no run covered is a mistake in the request, found on the server: exit 2 with the usage.
      out.length = 0;
      assert.equal(await cli(['replay', '--window-end', '2001-01-01T00:00:00Z', '--detach']), 2);
      assert.match(
        out.join('\n'),
        /no run with a window ending at 2001-01-01T00:00:00.000Z[^]*usage: npm run cli -- replay/,
      );
      assert.equal(await cli(['launch']), 2);
      assert.equal(await cli(['schedule', 'delete']), 0);
      for (const kind of ['lookback', 'full'] as const)
        await assert.rejects(
          stack.env.client.schedule.getHandle(sweepScheduleId(kind, suffix)).describe(),
          ScheduleNotFoundError,
        );
    } finally {
      console.log = log;
      console.error = error;
      process.env = saved;
    }
  });

  it('a run that skipped branches already running elsewhere is not a success for the CLI: exit 1, naming them', async () => {
    const p = await pipeline({ seed: 14, employeesPerBranch: 3, salesPerSalesperson: 4, latencyMs: 150 });
    const windowEnd = '2026-06-01T10:00:00.000Z';
    const saved = { ...process.env };
    const out: string[] = [];
    const log = console.log;
    const error = console.error;
    try {
      const [a, b] = await p.withWorkers(async () => {
        const first = await startRun(stack.env.client, p.queues, { branches: ['Akron'], windowEnd });
        // Run B starts while A's branch child for Akron runs: B finds its ID taken.
        await until('run A syncing Akron', 30_000, async () => {
          const child = stack.env.client.workflow.getHandle(
            'sales-sync/2026-06-01T10:00:00Z/24h/branch/Akron',
          );
          return (await child.describe().catch(() => undefined))?.status.name === 'RUNNING'
            ? true
            : undefined;
        });
        const second = await startRun(
          stack.env.client,
          p.queues,
          { branches: ['Akron'], windowEnd },
          `${first.workflowId}-second`,
        );
        await Promise.all([first.result(), second.result()]);
        return [first, second];
      });
      process.env.TEMPORAL_ADDRESS = stack.env.address;
      process.env.PAYLOAD_ENCRYPTION = 'off';
      for (const v of ['PAYLOAD_ENCRYPTION_KEY', 'PAYLOAD_ENCRYPTION_KEY_ID', 'PAYLOAD_DECRYPTION_KEYS'])
        delete process.env[v];
      console.log = (...x: unknown[]) => void out.push(x.join(' '));
      console.error = (...x: unknown[]) => void out.push(x.join(' '));
      assert.equal(await cli(['progress', b.workflowId]), 1, out.join('\n'));
      assert.match(
        out.join('\n'),
        new RegExp(`run ${b.workflowId} completed but did NOT sync 1 branch\\(es\\): Akron`),
      );
      assert.match(
        out.join('\n'),
        /npm run cli -- run --branches Akron --window-end 2026-06-01T10:00:00\.000Z/,
      );
      out.length = 0;
      assert.equal(await cli(['progress', a.workflowId]), 0, out.join('\n'));
      assert.match(out.join('\n'), new RegExp(`run ${a.workflowId} succeeded`));
      out.length = 0;
      await until('both runs in the list', 30_000, async () => {
        out.length = 0;
        assert.equal(await cli(['list', '--limit', '50']), 0);
        const text = out.join('\n');
        return text.includes(`${b.workflowId}\n`) && text.includes(`${a.workflowId}\n`) ? text : undefined;
      });
      assert.match(
        out.join('\n'),
        new RegExp(`INCOMPLETE\\s+${b.workflowId}\\n.*already running elsewhere: Akron`),
      );
      assert.match(out.join('\n'), new RegExp(`COMPLETED\\s+${a.workflowId}\\n`));
    } finally {
      console.log = log;
      console.error = error;
      process.env = saved;
    }
  });
});
