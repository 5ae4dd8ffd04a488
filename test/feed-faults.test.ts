/**
 * The change feed's process faults on real servers: the feed process killed mid-batch, and
 * PostgreSQL restarted under it. The kill comes from test/helpers/feed-with-fault.ts (the feed
 * service with an object store that kills the process): the product has no setting for it.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { ROOT, stopChild } from '../scripts/stack.js';
import { spawnWorker, workerNodeFlags } from '../scripts/worker-command.js';
import { waitFor } from '../scripts/lib/poll.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { assertNoDuplicates, hashes, useFeed } from './helpers/feed.js';
import { useStack } from './helpers/harness.js';

const ALL = { window: 'full' as const, branches: [...DEFAULT_BRANCHES] };

/** The feed service killed (SIGKILL) right after writing its `n`-th change object. */
function spawnFeedKilledAfter(n: number, env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(
    process.execPath,
    [...workerNodeFlags(), '--import', 'tsx', 'test/helpers/feed-with-fault.ts', String(n)],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** The signal a child exited with; fails with its output when it has not exited within `ms`. */
function exited(child: ChildProcess, ms: number, output: () => string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.signalCode);
    const timer = setTimeout(
      () => reject(new Error(`the feed process did not exit within ${ms} ms:\n${output()}`)),
      ms,
    );
    child.once('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal);
    });
  });
}

describe('change feed process faults (killed mid-batch, PostgreSQL restarted)', function () {
  this.timeout(300_000);
  const stack = useStack('dev-server', { seed: 13, employeesPerBranch: 3, salesPerSalesperson: 4 });
  const feeds = useFeed(stack);

  it('the feed worker killed mid-batch (after writing an object, before applying it) and PostgreSQL restarted lose and duplicate nothing', async function () {
    // Three processes start one after the other (two feed processes), each loading the workflow bundle.
    this.timeout(600_000);
    const p = await stack.pipeline({ salesPerSalesperson: 12 });
    const f = await feeds.feed(p, { start: false });
    await p.withWorkers(() => p.run(ALL));
    const env = feeds.processEnv(f, {
      FEED_BATCH_MAX_EVENTS: '40',
      FEED_BATCH_MAX_SECONDS: '1',
      METRICS_PORT: 'off',
    });
    let output = '';
    const first = spawnFeedKilledAfter(3, env);
    first.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const exit = await exited(first, 240_000, () => output);
    assert.equal(exit, 'SIGKILL', output);
    const killedAfter = /fault: killed after writing (\S+)/.exec(output)?.[1];
    assert.ok(killedAfter, output);
    const applied = await f.pool.query('SELECT 1 FROM feed_batches WHERE object_key = $1', [killedAfter]);
    assert.equal(applied.rowCount, 0, 'the object written before the kill was not applied');
    const second = spawnWorker('src/feed/service.ts', env, ['ignore', 'pipe', 'pipe']);
    second.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    try {
      // PostgreSQL stops while the consumer works, and comes back on the same port and data.
      await waitFor('some batches', 180_000, async () =>
        (await f.objects.list('changes/')).length > 6 ? true : undefined,
      );
      await feeds.restartPostgres(3000);
      await f.caughtUp(240_000);
      // The copy can equal DynamoDB before the last objects are written: a consumer's first start
      // applies the table's snapshot beside the stream. A lost change never arrives (timeout).
      const items = (await hashes(p)).size;
      const events = await waitFor('every change in an object', 120_000, async () => {
        const all = await f.events();
        return all.length >= items ? all : undefined;
      });
      assertNoDuplicates(events);
      assert.equal(events.length, items, 'one event per item, none lost');
      const again = await f.pool.query('SELECT events FROM feed_batches WHERE object_key = $1', [
        killedAfter,
      ]);
      assert.equal(again.rowCount, 1, 'the object was written again under the same name and applied');
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- feed processes ---\n${output.slice(-4000)}`, {
        cause: err,
      });
    } finally {
      await stopChild(second, 20_000);
    }
  });
});
