/**
 * Voided sales and departed salespersons in the PostgreSQL copy (issue #24), on a real
 * PostgreSQL: stream records (MODIFY, the whole item in the new image) with and without
 * `voided_at` / `left_at`, through the feed's own conversion (toChangeEvent) and apply; the
 * `current_*` views leave such rows out, `voided_sales` and `departed_salespersons` show them; a
 * value that is no instant never stalls the feed; the version rule; the reconcile's comparison
 * and repair of the new columns; migration 006 on a database that has the older schema's rows.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useSuiteDatabases } from './helpers/pg-database.js';
import { type AttributeValue, type ChangeEvent, type FeedTable, toChangeEvent } from '../src/feed/events.js';
import { applyBatch } from '../src/sql/apply.js';
import { MIGRATIONS_DIR, migrate } from '../src/sql/db.js';
import { classify, compareAll, repairItems } from '../src/sql/reconcile.js';
import { compact } from '../src/sql/upsert.js';

let seq = 5000;
const TEN_MINUTES_AGO = () => new Date(Date.now() - 10 * 60_000);

/** A stream record of `table` made into the feed's event: the whole item in the new image. */
function event(
  table: FeedTable,
  op: 'INSERT' | 'MODIFY',
  item: Record<string, AttributeValue>,
  changedAt = TEN_MINUTES_AGO(),
): ChangeEvent {
  return toChangeEvent(table, 'shardId-1', {
    eventName: op,
    dynamodb: {
      ApproximateCreationDateTime: changedAt,
      Keys: table === 'sales' ? { sale_id: item.sale_id!, employee_id: item.employee_id! } : item,
      NewImage: item,
      SequenceNumber: String(++seq),
    },
  });
}

/** A sale item as the sync writes it, with `extra` attributes (a `voided_at`). */
const saleItem = (
  id: string,
  extra: Record<string, AttributeValue> = {},
): Record<string, AttributeValue> => ({
  sale_id: { S: id },
  employee_id: { S: '7' },
  branch_id: { S: '3' },
  id: { N: id },
  amount: { N: '10.5' },
  quantity: { N: '2' },
  product: { S: 'pen' },
  customer: { S: 'Ann Lee' },
  transaction_timestamp: { S: '2026-01-02 03:04:05' },
  ...extra,
});

/** A salesperson item (one membership), with `extra` attributes (a `left_at`). */
const personItem = (
  employee: string,
  branch: string,
  extra: Record<string, AttributeValue> = {},
): Record<string, AttributeValue> => ({
  employee_id: { S: employee },
  branch_id: { S: branch },
  id: { N: employee },
  name: { S: `Person ${employee}` },
  occupation: { S: 'Clerk' },
  ...extra,
});

const batch = (table: FeedTable) => ({
  objectKey: `test/${randomUUID()}`,
  table,
  shard: 'shardId-1',
  lagMs: 0,
});

describe('voided sales and departed salespersons in the SQL copy', function () {
  this.timeout(120_000);
  const db = useSuiteDatabases();

  const apply = async (table: FeedTable, events: ChangeEvent[]) => applyBatch(db.pool, batch(table), events);
  const ids = async (sql: string) => (await db.pool.query<{ id: string }>(sql)).rows.map((r) => r.id);
  const currentSales = () => ids(`SELECT sale_id AS id FROM current_sales ORDER BY 1`);
  const voidedSales = () => ids(`SELECT sale_id AS id FROM voided_sales`);
  const saleRow = async (id: string) =>
    (
      await db.pool.query<{
        voided_at: Date | null;
        inexact_fields: string[];
        record: Record<string, unknown>;
      }>(`SELECT voided_at, inexact_fields, record FROM sales WHERE sale_id = $1`, [id])
    ).rows[0];

  it('a MODIFY with voided_at sets the column and takes the sale out of current_sales and its sums; a later MODIFY without it clears it and the sale is back', async () => {
    await apply('sales', [event('sales', 'INSERT', saleItem('1')), event('sales', 'INSERT', saleItem('2'))]);
    assert.deepEqual(await currentSales(), ['1', '2']);
    const voidedAt = '2026-03-01T10:00:00.123Z';
    await apply('sales', [event('sales', 'MODIFY', saleItem('1', { voided_at: { S: voidedAt } }))]);
    assert.equal((await saleRow('1'))?.voided_at?.toISOString(), voidedAt);
    assert.deepEqual((await saleRow('1'))?.inexact_fields, []);
    assert.deepEqual(await currentSales(), ['2']);
    assert.deepEqual(await voidedSales(), ['1']);
    const perDay = await db.pool.query<{ sales: string; amount: string }>(
      `SELECT sales::text, amount::text FROM sales_per_branch_day`,
    );
    assert.deepEqual(perDay.rows, [{ sales: '1', amount: '10.5' }], 'a voided sale is not counted');
    const perPerson = await db.pool.query<{ sales: string }>(`SELECT sales::text FROM sales_per_salesperson`);
    assert.deepEqual(perPerson.rows, [{ sales: '1' }]);

    // Listed again: the sync rewrites the item without voided_at.
    await apply('sales', [event('sales', 'MODIFY', saleItem('1'))]);
    assert.equal((await saleRow('1'))?.voided_at, null);
    assert.equal((await saleRow('1'))?.record.voided_at, undefined);
    assert.deepEqual(await currentSales(), ['1', '2']);
    assert.deepEqual(await voidedSales(), []);
  });

  it('voided_sales lists the most recent void first, with its time', async () => {
    await apply('sales', [
      event('sales', 'MODIFY', saleItem('1', { voided_at: { S: '2026-03-01T10:00:00Z' } })),
      event('sales', 'MODIFY', saleItem('2', { voided_at: { S: '2026-03-03T10:00:00Z' } })),
      event('sales', 'MODIFY', saleItem('3', { voided_at: { S: '2026-03-02T10:00:00+02:00' } })),
      event('sales', 'MODIFY', saleItem('4')),
    ]);
    const { rows } = await db.pool.query<{ sale_id: string; voided_at: Date; amount: string }>(
      `SELECT sale_id, voided_at, amount::text FROM voided_sales`,
    );
    assert.deepEqual(
      rows.map((r) => [r.sale_id, r.voided_at.toISOString(), r.amount]),
      [
        ['2', '2026-03-03T10:00:00.000Z', '10.5'],
        ['3', '2026-03-02T08:00:00.000Z', '10.5'],
        ['1', '2026-03-01T10:00:00.000Z', '10.5'],
      ],
    );
  });

  it('a MODIFY with left_at takes the membership out of current_salespersons (into departed_salespersons); without it the membership is back; the departed keep their name on their sales', async () => {
    await apply('salespersons', [
      event('salespersons', 'INSERT', personItem('7', '3')),
      event('salespersons', 'INSERT', personItem('8', '3')),
    ]);
    await apply('sales', [event('sales', 'INSERT', saleItem('1'))]);
    const current = () =>
      ids(`SELECT employee_id || '@' || branch_id AS id FROM current_salespersons ORDER BY 1`);
    const leftAt = '2026-03-01T10:00:00.000Z';
    await apply('salespersons', [
      event('salespersons', 'MODIFY', personItem('7', '3', { left_at: { S: leftAt } })),
    ]);
    const row = await db.pool.query<{ left_at: Date | null }>(
      `SELECT left_at FROM salespersons WHERE employee_id = '7'`,
    );
    assert.equal(row.rows[0]?.left_at?.toISOString(), leftAt);
    assert.deepEqual(await current(), ['8@3']);
    const departed = await db.pool.query<{ employee_id: string; name: string; left_at: Date }>(
      `SELECT employee_id, name, left_at FROM departed_salespersons`,
    );
    assert.deepEqual(
      departed.rows.map((r) => [r.employee_id, r.name, r.left_at.toISOString()]),
      [['7', 'Person 7', leftAt]],
    );
    const names = await db.pool.query<{ name: string | null }>(`SELECT name FROM sales_per_salesperson`);
    assert.deepEqual(names.rows, [{ name: 'Person 7' }], 'sales made before leaving keep the name');

    await apply('salespersons', [event('salespersons', 'MODIFY', personItem('7', '3'))]);
    assert.equal((await db.pool.query(`SELECT 1 FROM salespersons WHERE left_at IS NOT NULL`)).rowCount, 0);
    assert.deepEqual(await current(), ['7@3', '8@3']);
    assert.equal((await db.pool.query(`SELECT 1 FROM departed_salespersons`)).rowCount, 0);
  });

  it('a voided_at or left_at that is no instant does not stall the feed: the row arrives, the column NULL, its path in inexact_fields, the value kept in record', async () => {
    const bad: [string, AttributeValue][] = [
      ['11', { S: 'yesterday' }],
      ['12', { S: 'now' }],
      ['13', { S: '2026-02-30T10:00:00Z' }],
      ['14', { S: '2026-03-01 10:00:00' }],
      ['15', { N: '1772359200' }],
      ['16', { S: '2026-03-01T25:00:00Z' }],
      ['17', { S: 'infinity' }],
    ];
    const r = await apply('sales', [
      ...bad.map(([id, v]) => event('sales', 'MODIFY', saleItem(id, { voided_at: v }))),
      event('sales', 'MODIFY', saleItem('18', { voided_at: { S: '2026-03-01T10:00:00Z' } })),
    ]);
    assert.deepEqual(r, { applied: 8, skipped: 0, deadLettered: 0 });
    for (const [id, v] of bad) {
      const row = await saleRow(id);
      assert.equal(row?.voided_at, null, `sale ${id}`);
      assert.deepEqual(row?.inexact_fields, ['voided_at'], `sale ${id}`);
      assert.equal(String(row?.record.voided_at), v.S ?? v.N, `sale ${id}: record keeps the value`);
    }
    // DynamoDB says these are voided, so current_sales leaves them out too; voided_sales shows them.
    assert.deepEqual(await currentSales(), []);
    const listed = await voidedSales();
    assert.equal(listed[0], '18', 'a readable time first, the unreadable ones after it');
    assert.deepEqual([...listed].sort(), ['11', '12', '13', '14', '15', '16', '17', '18']);
    const p = await apply('salespersons', [
      event('salespersons', 'MODIFY', personItem('7', '3', { left_at: { S: 'soon' } })),
    ]);
    assert.deepEqual(p, { applied: 1, skipped: 0, deadLettered: 0 });
    const person = await db.pool.query<{ left_at: Date | null; inexact_fields: string[] }>(
      `SELECT left_at, inexact_fields FROM salespersons`,
    );
    assert.deepEqual(person.rows, [{ left_at: null, inexact_fields: ['left_at'] }]);
    assert.equal((await db.pool.query(`SELECT 1 FROM current_salespersons`)).rowCount, 0);
  });

  it('an older event never moves voided_at back (version rule), in either direction', async () => {
    const plain = event('sales', 'MODIFY', saleItem('1'));
    const voided = event('sales', 'MODIFY', saleItem('1', { voided_at: { S: '2026-03-01T10:00:00Z' } }));
    const relisted = event('sales', 'MODIFY', saleItem('1'));
    await apply('sales', [voided]);
    assert.deepEqual(await apply('sales', [plain]), { applied: 0, skipped: 1, deadLettered: 0 });
    assert.ok((await saleRow('1'))?.voided_at, 'the older listing leaves the void');
    await apply('sales', [relisted]);
    assert.deepEqual(await apply('sales', [voided]), { applied: 0, skipped: 1, deadLettered: 0 });
    assert.equal((await saleRow('1'))?.voided_at, null, 'a replayed void leaves the newer listing');
    assert.deepEqual(await currentSales(), ['1']);
  });

  it('reconcile compares voided_at and left_at (typed columns too) and a repair writes them', async () => {
    const voidedItem = saleItem('1', { voided_at: { S: '2026-03-01T10:00:00Z' } });
    await apply('sales', [event('sales', 'MODIFY', voidedItem)]);
    const client = await db.pool.connect();
    try {
      // The item in DynamoDB is the row's: no difference.
      assert.deepEqual(
        await compareAll(client, 'sales', [compact(event('sales', 'MODIFY', voidedItem))]),
        [],
      );
      // The typed column alone edited by hand: a difference in voided_at.
      await db.pool.query(`UPDATE sales SET voided_at = NULL`);
      const edited = await compareAll(client, 'sales', [compact(event('sales', 'MODIFY', voidedItem))]);
      assert.deepEqual(
        edited.map((d) => [d.kind, d.columns]),
        [['different', 'voided_at']],
      );
      // DynamoDB holds the sale listed again (the un-void missed by the copy): repaired.
      const relisted = compact(event('sales', 'MODIFY', saleItem('1')));
      await db.pool.query(`UPDATE sales SET voided_at = '2026-03-01T10:00:00Z'`);
      const diffs = await classify(client, 'sales', [{ sale_id: '1', employee_id: '7' }], [relisted]);
      assert.deepEqual(
        diffs.map((d) => [d.kind, d.columns]),
        [['different', 'voided_at, record']],
      );
      assert.equal(await repairItems(client, 'sales', [relisted], new Date()), 1);
      assert.equal((await saleRow('1'))?.voided_at, null);
      assert.deepEqual(await currentSales(), ['1']);
      // A departure the copy missed: the repair writes left_at.
      await apply('salespersons', [event('salespersons', 'INSERT', personItem('7', '3'))]);
      const left = compact(
        event('salespersons', 'MODIFY', personItem('7', '3', { left_at: { S: '2026-03-01T10:00:00Z' } })),
      );
      assert.equal(await repairItems(client, 'salespersons', [left], new Date()), 1);
      const row = await db.pool.query<{ left_at: Date | null }>(`SELECT left_at FROM salespersons`);
      assert.equal(row.rows[0]?.left_at?.toISOString(), '2026-03-01T10:00:00.000Z');
      assert.deepEqual(await compareAll(client, 'salespersons', [left]), []);
    } finally {
      client.release();
    }
  });

  it('migration 006 on a database with the older schema: rows kept, every view answers; the file can run again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    try {
      for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => f < '006'))
        copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f));
      const old = await db.database(dir);
      try {
        await old.query(`INSERT INTO sales (sale_id, employee_id, branch_id, amount, transaction_timestamp, version)
          VALUES ('1', '7', '3', 5, '2026-01-02T00:00:00Z', 1)`);
        await old.query(
          `INSERT INTO salespersons (employee_id, branch_id, name, version) VALUES ('7', '3', 'Ann', 1)`,
        );
        const newer = readdirSync(MIGRATIONS_DIR).filter((f) => f >= '006' && f.endsWith('.sql'));
        assert.deepEqual(await migrate(old), newer.sort());
        const sql = readFileSync(join(MIGRATIONS_DIR, '006_voids.sql'), 'utf8');
        await old.query(sql);
        for (const view of [
          'current_sales',
          'current_salespersons',
          'current_branches',
          'sales_per_branch_day',
          'sales_per_salesperson',
          'voided_sales',
          'departed_salespersons',
        ])
          await old.query(`SELECT * FROM ${view}`);
        const s = await old.query(`SELECT sale_id FROM current_sales`);
        assert.deepEqual(
          s.rows.map((r: { sale_id: string }) => r.sale_id),
          ['1'],
        );
        const n = await old.query<{ name: string }>(`SELECT name FROM sales_per_salesperson`);
        assert.deepEqual(n.rows, [{ name: 'Ann' }]);
      } finally {
        await old.end();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
