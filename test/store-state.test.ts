/**
 * The sync's state and indexes on DynamoDB Local: the watermark never moves back, a sweep is
 * recorded, first loads are remembered, and tables created before the indexes existed get them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoClients, ensureTables, tableNames } from '../src/store/index.js';
import type { StateStore } from '../src/store/state.js';
import type { DynamoLocal } from '../scripts/stack.js';
import { freshStore, startDynamo, stateOf } from './helpers/harness.js';

describe('sync state and indexes (DynamoDB Local)', function () {
  this.timeout(60_000);
  let dynamo: DynamoLocal;
  before(async () => {
    dynamo = await startDynamo();
  });
  after(async () => {
    await dynamo?.stop();
  });

  const lastRun = (at: string) => ({ workflowId: 'wf', at, voided: 0, departed: 0 });

  it('moves a watermark forward only: a backfill of an older window keeps it, and records a later sweep', async () => {
    const state: StateStore = stateOf(await freshStore(dynamo));
    const t = (h: number) => new Date(Date.UTC(2026, 5, 10, h)).toISOString();
    assert.equal(await state.branch('7'), null);
    assert.equal(
      await state.advanceBranch({
        branchId: '7',
        branchName: 'Akron',
        watermark: t(5),
        lastRun: lastRun(t(5)),
      }),
      t(5),
    );
    // An older window (a backfill) keeps the later watermark, but its sweep is recorded.
    const kept = await state.advanceBranch({
      branchId: '7',
      branchName: 'Akron',
      watermark: t(2),
      sweep: { kind: 'lookback', at: t(2) },
      lastRun: lastRun(t(6)),
    });
    assert.equal(kept, t(5));
    const b = await state.branch('7');
    assert.equal(b?.watermark, t(5));
    assert.equal(b?.lastSweepAt, t(2));
    assert.equal(b?.lastSweepKind, 'lookback');
    assert.equal(b?.lastRun?.at, t(6));
    assert.equal(
      await state.advanceBranch({
        branchId: '7',
        branchName: 'Akron',
        watermark: t(8),
        lastRun: lastRun(t(8)),
      }),
      t(8),
    );
    assert.deepEqual(
      (await state.branches()).map((x) => [x.branchName, x.watermark]),
      [['Akron', t(8)]],
    );
  });

  it('remembers whose whole history was read', async () => {
    const state = stateOf(await freshStore(dynamo));
    assert.deepEqual([...(await state.loadedSalespersons(['1', '2', '3']))], []);
    await state.markHistoryLoaded(['1', '3'], new Date().toISOString(), 'wf');
    await state.markHistoryLoaded(['3'], new Date().toISOString(), 'wf-later');
    assert.deepEqual([...(await state.loadedSalespersons(['1', '2', '3']))].sort(), ['1', '3']);
  });

  it('adds the void and departure indexes to tables created before them', async () => {
    const config = { endpoint: dynamo.endpoint, region: 'us-east-1', tablePrefix: '', tableSuffix: '' };
    const clients = createDynamoClients(config);
    const names = tableNames(`old${randomUUID().slice(0, 6)}-`, '');
    // The tables as the previous version created them: keys only, no index.
    for (const [table, keys] of [
      ['sales', ['sale_id', 'employee_id']],
      ['salespersons', ['employee_id', 'branch_id']],
    ] as const) {
      await clients.raw.send(
        new CreateTableCommand({
          TableName: names[table],
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: keys.map((k) => ({ AttributeName: k, AttributeType: 'S' })),
          KeySchema: [
            { AttributeName: keys[0], KeyType: 'HASH' },
            { AttributeName: keys[1], KeyType: 'RANGE' },
          ],
        }),
      );
    }
    const created = await ensureTables(clients.raw, names);
    assert.ok(created.includes(`${names.sales}.employee_time`), created.join(', '));
    assert.ok(created.includes(`${names.salespersons}.branch_members`), created.join(', '));
    const d = await clients.raw.send(new DescribeTableCommand({ TableName: names.sales }));
    assert.equal(d.Table?.GlobalSecondaryIndexes?.[0]?.IndexStatus, 'ACTIVE');
    // A second call finds everything in place.
    assert.deepEqual(await ensureTables(clients.raw, names), []);
  });
});
