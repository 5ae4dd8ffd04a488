/**
 * A stop that always stops (`npm run worker`, `npm run feed`): SIGTERM, what a container
 * orchestrator sends, in the middle of the work. The processes run as the scripts start them
 * (compiled JavaScript, the worker's heap flag) on the stack of test/helpers/fault-stack.ts.
 * After a clean drain the process exits 0 within the grace period and nothing it ran failed
 * because of the stop; with an activity stuck in a call that ignores its cancellation (DynamoDB
 * Local frozen with SIGSTOP, PostgreSQL behind a frozen proxy) it still exits within its bound,
 * with 1. No process is left behind.
 */
import assert from 'node:assert/strict';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { ChildProcess } from 'node:child_process';
import { startRun } from '../src/client.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { SYNCED_TABLES } from '../src/shared/tables.js';
import { feedWorkflowId } from '../src/feed/worker.js';
import { startPostgres } from '../scripts/lib/postgres.js';
import { freePort, stopChild } from '../scripts/stack.js';
import { spawnWorker, workerEnv } from '../scripts/worker-command.js';
import { expectedTables } from './helpers/truth.js';
import { FAULT_RUN, assertCompleteSummary, pagesOf, useFaultStacks } from './helpers/fault-stack.js';
import { startFreezeProxy } from './helpers/freeze-proxy.js';
import { type OutputLog, alive, track, waitFor } from './helpers/processes.js';

/** A clean drain: what runs finishes within the grace period (5 s), plus start-up slack of the exit. */
const DRAINED_BOUND_MS = 10_000;
/** Grace (5 s) + cancel (10 s) + closing, then the deadline (docs/failure-modes.md, "Stopping"). */
const STUCK_BOUND_MS = 30_000;

/** Waits for a child's exit, at most `ms`: its code and how long it took, or undefined. */
async function exitWithin(
  child: ChildProcess,
  ms: number,
): Promise<{ code: number | null; ms: number } | undefined> {
  const t0 = Date.now();
  if (child.exitCode !== null) return { code: child.exitCode, ms: 0 };
  return await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - t0 });
    });
  });
}

describe('stopping npm run worker and npm run feed with SIGTERM (real processes, dev server and DynamoDB Local on disk)', function () {
  this.timeout(240_000);
  const { stack, outcome, midRun, assertStored, trouble, report, later } = useFaultStacks();

  it('SIGTERM to a worker mid-run: what it runs finishes, it exits 0 within the grace period, no attempt failed because of the stop; a new worker finishes the run', async () => {
    const s = await stack();
    const expected = expectedTables(s.sim.dataset, DEFAULT_BRANCHES);
    const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES);
    const first = s.workers[0];
    assert.ok(first);
    const id = `sigterm-${s.queues.workflows}`;
    await startRun(s.client, s.queues, FAULT_RUN, id);
    await midRun(s, requests, 0.3);
    s.log.note(`SIGTERM -> ${first.label}`);
    first.child.kill('SIGTERM');
    const r = await exitWithin(first.child, DRAINED_BOUND_MS);
    assert.ok(r, `the worker still ran ${DRAINED_BOUND_MS / 1000} s after SIGTERM`);
    assert.equal(r.code, 0);
    assert.deepEqual(await first.reapHelpers(), [], 'the worker left no child process behind');
    await s.startWorker();
    const o = await outcome(s, id);
    assert.ok(o.ok, `the run failed: ${o.error}`);
    assertCompleteSummary(o.summary, expected, DEFAULT_BRANCHES);
    await assertStored(s, expected);
    const t = await trouble(s);
    // A task the server handed out as the poller stopped times out (heartbeat) and is retried:
    // not a failure. An attempt aborted or cancelled by the stop is one.
    assert.doesNotMatch(
      t,
      /Worker is shutting down|AbortError|aborted|cancel/i,
      'an attempt failed because of the stop',
    );
    report(`worker exited ${(r.ms / 1000).toFixed(1)} s after SIGTERM with 0; ${t}`);
  });

  it('SIGTERM to a worker whose activities wait on a frozen DynamoDB (SIGSTOP): cancelled after the grace period, it exits within its bound, no process left', async () => {
    const s = await stack();
    const requests = pagesOf(s.sim.dataset, DEFAULT_BRANCHES);
    const worker = s.workers[0];
    const java = s.dynamo.local?.child;
    assert.ok(worker && java?.pid);
    await startRun(s.client, s.queues, FAULT_RUN, `stuck-${s.queues.workflows}`);
    await midRun(s, requests, 0.2);
    process.kill(java.pid, 'SIGSTOP');
    later('let DynamoDB Local go on', () => alive(java.pid ?? 0) && process.kill(java.pid ?? 0, 'SIGCONT'));
    const frozenAt = s.sim.counters().total;
    // Each activity fetches its page, then waits on its write for ever.
    await waitFor('activities stuck on their writes', 20_000, () =>
      s.sim.counters().total >= frozenAt + 4 ? true : undefined,
    );
    s.log.note(`SIGTERM -> ${worker.label} (DynamoDB Local frozen)`);
    worker.child.kill('SIGTERM');
    const r = await exitWithin(worker.child, STUCK_BOUND_MS);
    assert.ok(r, `the worker still ran ${STUCK_BOUND_MS / 1000} s after SIGTERM`);
    const forced = s.log.includes(`${worker.label} err`, 'stopped with activities still running');
    assert.equal(r.code, forced ? 1 : 0, 'exit 1 exactly when activities were left running');
    assert.deepEqual(await worker.reapHelpers(), [], 'the worker left no child process behind');
    report(`worker exited ${(r.ms / 1000).toFixed(1)} s after SIGTERM with ${r.code} (DynamoDB frozen)`);
  });

  /** The feed process (`npm run feed`) on the test's stack, LANDING=off, PostgreSQL behind a freeze proxy. */
  async function feedProcess(log: OutputLog, s: Awaited<ReturnType<typeof stack>>) {
    const pg = await startPostgres({ port: await freePort() });
    later('stop PostgreSQL', () => pg.stop());
    const proxy = await startFreezeProxy(Number(new URL(pg.url).port));
    later('close the proxy', () => proxy.close());
    const prefix = s.store.names.branches.slice(0, -'branches'.length);
    const suffix = s.queues.workflows.slice(s.queues.workflows.indexOf('-pf'));
    const child = spawnWorker(
      'src/feed/service.ts',
      workerEnv({
        TEMPORAL_ADDRESS: s.temporal.address,
        DYNAMODB_ENDPOINT: s.dynamo.endpoint,
        AWS_REGION: 'us-east-1',
        TABLE_PREFIX: prefix,
        TABLE_SUFFIX: '',
        TASK_QUEUE_SUFFIX: suffix,
        DATABASE_URL: `postgres://postgres:pw@127.0.0.1:${proxy.port}/sales`,
        LANDING: 'off',
        FEED_BATCH_MAX_SECONDS: '1',
        WORKER_LOG_LEVEL: 'WARN',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      }),
      ['ignore', 'pipe', 'pipe'],
    );
    track(child.pid, 'feed (node .build/js/src/feed/service.js)');
    log.collect('feed out', child.stdout);
    log.collect('feed err', child.stderr);
    later('stop the feed', () => stopChild(child, 1000));
    await waitFor('the feed to poll', 60_000, () => {
      if (child.exitCode !== null) throw new Error('the feed exited (see its output)');
      return log.includes('feed out', 'change feed polling') ? true : undefined;
    });
    assert.ok(log.includes('feed out', 'change objects: none (LANDING=off)'));
    const put = (id: string) =>
      s.store.clients.raw.send(
        new PutItemCommand({
          TableName: s.store.names.branches,
          Item: { branch_id: { S: id }, id: { N: id }, name: { S: `Branch ${id}` } },
        }),
      );
    const rows = async () => {
      const { default: pgLib } = await import('pg');
      const c = new pgLib.Client({ connectionString: pg.url });
      await c.connect();
      try {
        const r = await c.query<{ n: string }>(
          'SELECT (SELECT count(*) FROM feed_batches) + (SELECT count(*) FROM feed_dead_letter) AS n',
        );
        return Number(r.rows[0]?.n ?? 0);
      } finally {
        await c.end();
      }
    };
    return { child, proxy, put, rows };
  }

  it('SIGTERM to the feed while its consumers long-poll: the reads hand back what they have, it exits 0 at once, no read failed', async () => {
    const s = await stack();
    const f = await feedProcess(s.log, s);
    await f.put('9001');
    await waitFor('the change applied', 60_000, async () => ((await f.rows()) > 0 ? true : undefined), 500);
    s.log.note('SIGTERM -> feed');
    f.child.kill('SIGTERM');
    const r = await exitWithin(f.child, DRAINED_BOUND_MS);
    assert.ok(r, `the feed still ran ${DRAINED_BOUND_MS / 1000} s after SIGTERM`);
    assert.equal(r.code, 0);
    for (const table of SYNCED_TABLES) {
      const d = await s.client.workflow
        .getHandle(feedWorkflowId(table, s.queues.workflows.slice(s.queues.workflows.indexOf('-pf'))))
        .describe();
      for (const a of d.raw.pendingActivities ?? [])
        assert.equal(
          a.lastFailure?.message ?? '',
          '',
          `${table}: ${a.activityType?.name} failed by the stop`,
        );
    }
    report(`feed exited ${(r.ms / 1000).toFixed(1)} s after SIGTERM with 0`);
  });

  it('SIGTERM to the feed while a read is stuck in an unanswering PostgreSQL: it exits within its bound, no process left', async () => {
    const s = await stack();
    const f = await feedProcess(s.log, s);
    await f.put('9101');
    await waitFor('the change applied', 60_000, async () => ((await f.rows()) > 0 ? true : undefined), 500);
    f.proxy.freeze();
    await f.put('9102');
    await waitFor('the feed waiting on PostgreSQL', 30_000, () =>
      f.proxy.bytesWhileFrozen() > 0 ? true : undefined,
    );
    s.log.note('SIGTERM -> feed (PostgreSQL frozen)');
    f.child.kill('SIGTERM');
    const r = await exitWithin(f.child, STUCK_BOUND_MS);
    assert.ok(r, `the feed still ran ${STUCK_BOUND_MS / 1000} s after SIGTERM`);
    const forced = s.log.includes('feed err', 'stopped with a read still running');
    assert.equal(r.code, forced ? 1 : 0, 'exit 1 exactly when a read was left running');
    report(
      `feed exited ${(r.ms / 1000).toFixed(1)} s after SIGTERM with ${r.code}${forced ? ' (a read left stuck)' : ''}`,
    );
  });
});
