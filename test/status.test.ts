/**
 * `npm run cli -- status` against DynamoDB Local: per branch the watermark and its age, the last
 * sweep, the last run's voids, departures and widened window, as written by the state store
 * (src/store/state.ts); `--json`; a clear message while the table does not exist.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DynamoLocal } from '../scripts/stack.js';
import { main as cli } from '../src/cli/index.js';
import { createDynamoClients, ensureTables, tableNames } from '../src/store/index.js';
import { StateStore } from '../src/store/state.js';
import { startDynamo } from './helpers/harness.js';

describe('the status command (DynamoDB Local)', function () {
  this.timeout(60_000);
  let dynamo: DynamoLocal;
  let saved: NodeJS.ProcessEnv;
  const out: string[] = [];
  const log = console.log;
  const error = console.error;
  const prefix = `t${randomUUID().slice(0, 8)}-`;

  before(async () => {
    dynamo = await startDynamo();
  });
  after(async () => {
    await dynamo?.stop();
  });
  beforeEach(() => {
    saved = { ...process.env };
    for (const v of ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'TABLE_SUFFIX']) delete process.env[v];
    process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    process.env.TABLE_PREFIX = prefix;
    out.length = 0;
    console.log = (...a: unknown[]) => void out.push(a.join(' '));
    console.error = console.log;
  });
  afterEach(() => {
    console.log = log;
    console.error = error;
    process.env = saved;
  });

  it('says how to get the table while it does not exist (exit 2), and that no branch has state yet', async () => {
    assert.equal(await cli(['status']), 2);
    assert.match(
      out.join('\n'),
      new RegExp(
        `configuration error: the table ${prefix}sync_state does not exist yet: run a sync first .*npm run cli -- tables create`,
      ),
    );
    assert.equal(await cli(['tables', 'create']), 0);
    assert.match(out.join('\n'), new RegExp(`created: .*${prefix}sync_state`));
    out.length = 0;
    assert.equal(await cli(['status']), 0);
    assert.match(out.join('\n'), /no branch has state yet/);
  });

  it('prints each branch: watermark and age, last sweep, the last run; --json the same as data', async () => {
    const clients = createDynamoClients({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      tablePrefix: prefix,
      tableSuffix: '',
    });
    await ensureTables(clients.raw, tableNames(prefix, ''));
    const store = new StateStore(clients, tableNames(prefix, '').sync_state);
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    await store.advanceBranch({
      branchId: '7',
      branchName: 'Scranton',
      watermark: hoursAgo(3),
      sweep: { kind: 'lookback', at: hoursAgo(5) },
      lastRun: {
        workflowId: 'sales-sync-sweep-lookback-x',
        at: hoursAgo(3),
        voided: 4,
        departed: 1,
        widenedFrom: '2026-11-18T04:00:00.000Z',
      },
    });
    await store.advanceBranch({
      branchId: '2',
      branchName: 'Akron',
      watermark: hoursAgo(50),
      lastRun: { workflowId: 'sales-sync-hourly-y', at: hoursAgo(50), voided: 0, departed: 0 },
    });
    assert.equal(await cli(['status']), 0);
    const text = out.join('\n');
    assert.match(
      text,
      /^Akron \(branch 2\)\n {2}watermark {3}\S+ \(2 d ago\)\n {2}last sweep {2}none yet\n {2}last run {4}sales-sync-hourly-y at \S+ \(2 d ago\): 0 sales voided, 0 salespersons left$/m,
    );
    assert.match(
      text,
      /^Scranton \(branch 7\)\n {2}watermark {3}\S+ \(3 h ago\)\n {2}last sweep {2}lookback at \S+ \(5 h ago\)\n {2}last run {4}sales-sync-sweep-lookback-x at \S+ \(3 h ago\): 4 sales voided, 1 salespersons left, window widened from 2026-11-18T04:00:00.000Z$/m,
    );
    assert.ok(text.indexOf('Akron') < text.indexOf('Scranton'), 'sorted by name');
    out.length = 0;
    assert.equal(await cli(['status', '--json']), 0);
    const json = JSON.parse(out.join('\n')) as { branches: unknown[] };
    assert.deepEqual(json.branches, await store.branches());
    assert.equal(json.branches.length, 2);
    clients.raw.destroy();
  });
});
