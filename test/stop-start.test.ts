/**
 * A stop that always stops (`npm start`): `--once` ends within a bounded time after its run even
 * when the change feed is stuck in a call that ignores its cancellation (PostgreSQL behind a
 * frozen network), with the run's exit code and no error on the way out; a second Ctrl-C ends
 * everything at once; no server of the stack is left behind (the process tree is checked);
 * the database URL is never printed with its password; `LANDING=off` runs.
 */
import assert from 'node:assert/strict';
import { type LocalPostgres, startPostgres } from '../scripts/lib/postgres.js';
import { freePort } from '../scripts/stack.js';
import { type FreezeProxy, startFreezeProxy } from './helpers/freeze-proxy.js';
import { StartProcess } from './helpers/start-process.js';

const SECRET = 'pw-5f1e-not-for-logs';
/** Start of the stack and its first run, on a loaded machine. */
const READY_MS = 300_000;
/**
 * After the run's outcome: the copy check gives up on an unanswering PostgreSQL within 10 s,
 * then the workers and the feed get 10 s to finish, are cancelled, and are left after 10 s
 * more (docs/failure-modes.md, "Stopping"); the rest is slack for a loaded machine.
 */
const ONCE_BOUND_MS = 60_000;
/** After a second Ctrl-C: everything ends at once. */
const SECOND_INTERRUPT_BOUND_MS = 5_000;

/** The servers of the stack, as they appear in the process tree. */
function servers(seen: Map<number, string>): string[] {
  const kinds: [string, RegExp][] = [
    ['DynamoDB Local', /DynamoDBLocal/],
    ['Temporal', /temporal server start-dev/],
    ['versitygw', /versitygw/],
    ['PostgreSQL', /postgres -D/],
  ];
  const cmds = [...seen.values()];
  return kinds.filter(([, re]) => cmds.some((c) => re.test(c))).map(([k]) => k);
}

describe('stopping npm start (scripts/start.ts in its own process group, free ports, fresh DATA_DIR)', function () {
  this.timeout(480_000);
  let s: StartProcess | undefined;
  let pg: LocalPostgres | undefined;
  let proxy: FreezeProxy | undefined;

  afterEach(async function () {
    if (this.currentTest?.state !== 'passed' && s) console.log(`----- npm start said -----\n${s.output}`);
    s?.cleanup();
    await proxy?.close();
    await pg?.stop();
    [s, pg, proxy] = [undefined, undefined, undefined];
  });

  /** A PostgreSQL of the test's own behind a freeze proxy, and its URL with a password in it. */
  async function remoteDatabase(): Promise<string> {
    pg = await startPostgres({ port: await freePort() });
    proxy = await startFreezeProxy(Number(new URL(pg.url).port));
    // Trust authentication accepts any password: it stands for a remote database's.
    return `postgres://postgres:${SECRET}@127.0.0.1:${proxy.port}/sales`;
  }

  it('--once exits with the run’s code within its bound while the feed is stuck in an unanswering PostgreSQL; no password printed, no error, no server left', async () => {
    const url = await remoteDatabase();
    s = await StartProcess.start({ DATABASE_URL: url, FEED_BATCH_MAX_SECONDS: '1', SIM_LATENCY_MS: '100' }, [
      '--once',
    ]);
    await s.waitForOutput(/^first run\s/m, READY_MS);
    proxy?.freeze();
    const outcomeAt = await s.waitForOutput(/^run \S+ succeeded$/m, READY_MS);
    const r = await s.exit(ONCE_BOUND_MS);
    assert.ok(r, `still running ${ONCE_BOUND_MS / 1000} s after the run's outcome`);
    assert.equal(r.code, 0, 'the run succeeded: exit code 0');
    console.log(`      exited ${((s.exitedAt - outcomeAt) / 1000).toFixed(1)} s after the run's outcome`);
    assert.ok((proxy?.bytesWhileFrozen() ?? 0) > 0, 'the feed was waiting on the frozen PostgreSQL');
    assert.ok(!s.output.includes(SECRET), 'the password was printed');
    assert.match(s.output, new RegExp(`postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:${proxy?.port}/sales`));
    assert.doesNotMatch(s.output, /while stopping|Called end on pool|^error/m);
    assert.deepEqual(servers(s.seen), ['DynamoDB Local', 'Temporal', 'versitygw']);
    assert.deepEqual(await s.leftovers(), [], 'processes of the stack still alive');
  });

  it('LANDING=off: --once runs, the feed says it writes no change objects, the copy equals DynamoDB, exit 0, no server left', async () => {
    const url = await remoteDatabase();
    s = await StartProcess.start({ DATABASE_URL: url, LANDING: 'off', FEED_BATCH_MAX_SECONDS: '1' }, [
      '--once',
    ]);
    const r = await s.exit(READY_MS);
    assert.ok(r, 'npm start --once did not end');
    assert.equal(r.code, 0, s.output);
    assert.match(s.output, /^landing zone\s+off \(LANDING=off\)/m);
    assert.match(
      s.output,
      /^change feed\s+DynamoDB Streams -> PostgreSQL; no change objects \(LANDING=off\)/m,
    );
    assert.match(s.output, /^run \S+ succeeded$/m);
    assert.match(s.output, /^SQL copy\s+equals DynamoDB field by field/m);
    assert.ok(!s.output.includes(SECRET), 'the password was printed');
    assert.match(s.output, /^psql\s+psql "\$DATABASE_URL"/m);
    assert.doesNotMatch(s.output, /while stopping|configuration error|^error/m);
    assert.deepEqual(servers(s.seen), ['DynamoDB Local', 'Temporal']);
    assert.deepEqual(await s.leftovers(), [], 'processes of the stack still alive');
  });

  it('Ctrl-C, then Ctrl-C again in the middle of a run: everything ends at once, no server left', async () => {
    s = await StartProcess.start({ SIM_LATENCY_MS: '300' });
    await s.waitForOutput(/^\[#*-+\] \d+\/13 branches/m, READY_MS);
    s.interrupt();
    await s.waitForOutput(/stopping/, 5_000);
    await new Promise((r) => setTimeout(r, 500));
    const second = Date.now();
    s.interrupt();
    const r = await s.exit(SECOND_INTERRUPT_BOUND_MS);
    assert.ok(r, `still running ${SECOND_INTERRUPT_BOUND_MS / 1000} s after the second Ctrl-C`);
    console.log(
      `      exited ${((s.exitedAt - second) / 1000).toFixed(1)} s after the second Ctrl-C (code ${r.code})`,
    );
    assert.equal(r.code, 130);
    assert.deepEqual(servers(s.seen), ['DynamoDB Local', 'Temporal', 'versitygw', 'PostgreSQL']);
    assert.deepEqual(await s.leftovers(), [], 'processes of the stack still alive');
  });
});
