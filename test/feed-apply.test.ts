/**
 * Applying change events to a real PostgreSQL (no stream, no Temporal): values PostgreSQL cannot
 * hold exactly, changes that cannot arrive at all, errors classified by SQLSTATE, rows written by
 * a repair, lag per shard, and migration 003 on a database that has the older schema's rows.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { useSuiteDatabases } from './helpers/pg-database.js';
import type { ChangeEvent, FeedTable } from '../src/feed/events.js';
import { applyBatch } from '../src/sql/apply.js';
import { MIGRATIONS_DIR, migrate } from '../src/sql/db.js';
import { repairItems } from '../src/sql/reconcile.js';
import { compact } from '../src/sql/upsert.js';

/** A random string of `n` characters that does not compress (an index row keeps it whole). */
const incompressible = (n: number) => randomBytes(n).toString('base64').slice(0, n);

let seq = 1000;
function sale(id: string, fields: Record<string, unknown> = {}, changedAt = new Date()): ChangeEvent {
  return {
    table: 'sales',
    op: 'INSERT',
    key: { sale_id: id, employee_id: '7' },
    seq: String(++seq),
    shard: 'shardId-1',
    changedAt: changedAt.toISOString(),
    new: {
      sale_id: id,
      employee_id: '7',
      branch_id: '3',
      id: Number(id) || 1,
      amount: 12.5,
      quantity: 2,
      product: 'pen',
      customer: 'Ann Lee',
      transaction_timestamp: '2026-01-02 03:04:05',
      ...fields,
    },
  };
}

const batch = (table: FeedTable, extra: { attempt?: number; shard?: string; lagMs?: number } = {}) => ({
  objectKey: `test/${randomUUID()}`,
  table,
  shard: extra.shard ?? 'shardId-1',
  lagMs: extra.lagMs ?? 0,
  ...(extra.attempt ? { attempt: extra.attempt } : {}),
});

describe('applying change events to PostgreSQL', function () {
  this.timeout(120_000);
  const db = useSuiteDatabases();

  it('a value PostgreSQL cannot hold exactly (U+0000, a lone surrogate): the row arrives, the field null in its typed column and in record, its path in inexact_fields', async () => {
    const nul = sale('1', {
      customer: 'Ann\u0000Lee',
      product: 'pen\ud800',
      items: [{ name: 'a\u0000' }, { name: 'ok' }],
      'a.b': '\udc00',
    });
    const plain = sale('2');
    const r = await applyBatch(db.pool, batch('sales'), [nul, plain]);
    assert.deepEqual(r, { applied: 2, skipped: 0, deadLettered: 0 });
    const { rows } = await db.pool.query<{
      sale_id: string;
      customer: string | null;
      product: string | null;
      amount: string;
      record: Record<string, unknown>;
      inexact_fields: string[];
    }>('SELECT sale_id, customer, product, amount, record, inexact_fields FROM sales ORDER BY sale_id');
    const [one, two] = rows;
    assert.equal(one?.customer, null);
    assert.equal(one?.product, null);
    assert.equal(one?.amount, '12.5', 'the exact values are kept');
    assert.equal(one?.record.customer, null);
    assert.equal(one?.record.product, null);
    assert.equal(one?.record['a.b'], null);
    assert.deepEqual(one?.record.items, [{ name: null }, { name: 'ok' }]);
    assert.deepEqual([...(one?.inexact_fields ?? [])].sort(), [
      'a\\.b',
      'customer',
      'items.0.name',
      'product',
    ]);
    assert.equal(two?.customer, 'Ann Lee');
    assert.deepEqual(two?.inexact_fields, [], 'a row without such a field has an empty list');
    assert.equal((await db.pool.query('SELECT 1 FROM feed_dead_letter')).rowCount, 0);
  });

  it('a change that cannot arrive at all (a 6 KB key, U+0000 in a key, a 6 KB indexed branch_id) goes to the dead letter as JSON text; the others are applied, a replay adds no second row', async () => {
    const bigKey = incompressible(6000);
    const branches: ChangeEvent[] = [
      { ...sale('0'), table: 'branches', key: { branch_id: bigKey }, new: { branch_id: bigKey, id: 1 } },
      { ...sale('0'), table: 'branches', key: { branch_id: '5' }, new: { branch_id: '5', id: 5 } },
    ];
    const b = await applyBatch(db.pool, batch('branches'), branches);
    assert.deepEqual(b, { applied: 1, skipped: 0, deadLettered: 1 });
    const sales = [sale('10'), sale('11\u0000'), sale('12', { branch_id: incompressible(6000) }), sale('13')];
    sales[1] = { ...(sales[1] as ChangeEvent), key: { sale_id: '11\u0000', employee_id: '7' } };
    const info = batch('sales');
    assert.deepEqual(await applyBatch(db.pool, info, sales), { applied: 2, skipped: 0, deadLettered: 2 });
    assert.deepEqual(await applyBatch(db.pool, info, sales), { applied: 0, skipped: 2, deadLettered: 2 });
    const { rows } = await db.pool.query<{ table_name: string; key: string; reason: string; event: string }>(
      'SELECT table_name, key, reason, event FROM feed_dead_letter ORDER BY table_name, seq',
    );
    assert.equal(rows.length, 3, 'one row per change however often it is applied');
    assert.deepEqual(JSON.parse(rows[0]?.key ?? ''), { branch_id: bigKey });
    assert.match(rows[0]?.reason ?? '', /index row/);
    assert.deepEqual(JSON.parse(rows[1]?.key ?? ''), { sale_id: '11\u0000', employee_id: '7' });
    assert.match(rows[1]?.reason ?? '', /U\+0000|cannot hold/);
    assert.equal((JSON.parse(rows[2]?.event ?? '') as ChangeEvent).new?.branch_id, sales[2]?.new?.branch_id);
    const applied = await db.pool.query<{ sale_id: string }>('SELECT sale_id FROM sales ORDER BY sale_id');
    assert.deepEqual(
      applied.rows.map((r) => r.sale_id),
      ['10', '13'],
    );
  });

  it("errors by SQLSTATE: a connection's error fails the attempt; an event's error isolates that event, dead-lettered at once for a value error, after 3 attempts for any other", async () => {
    // Fault injection in the test's database: a trigger raises the SQLSTATE a sale's product names.
    await db.pool.query(`CREATE FUNCTION fail_on_product() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.product LIKE 'fail-%' THEN
          RAISE EXCEPTION 'injected %', NEW.product USING ERRCODE = substr(NEW.product, 6);
        END IF;
        RETURN NEW;
      END $$`);
    await db.pool.query(
      'CREATE TRIGGER fail_on_product BEFORE INSERT OR UPDATE ON sales FOR EACH ROW EXECUTE FUNCTION fail_on_product()',
    );
    const rows = async () =>
      (await db.pool.query<{ sale_id: string }>('SELECT sale_id FROM sales ORDER BY sale_id')).rows.map(
        (r) => r.sale_id,
      );
    // Connection and availability classes: never the event's, whatever the attempt.
    for (const code of ['08006', '40001', '40P01', '53300', '57014', '58030']) {
      const events = [sale('20'), sale('21', { product: `fail-${code}` })];
      await assert.rejects(applyBatch(db.pool, batch('sales', { attempt: 50 }), events), (err: Error) => {
        assert.equal((err as { code?: string }).code, code);
        return true;
      });
      assert.deepEqual(await rows(), [], `${code}: nothing of the batch is applied`);
    }
    // A value error (class 22): the event is dead-lettered at the first attempt.
    const value = [sale('30'), sale('31', { product: 'fail-22023' }), sale('32')];
    assert.deepEqual(await applyBatch(db.pool, batch('sales'), value), {
      applied: 2,
      skipped: 0,
      deadLettered: 1,
    });
    // Another class (42): the attempt fails twice, the third dead-letters the event and applies the rest.
    const other = [sale('40'), sale('41', { product: 'fail-42P17' }), sale('42')];
    for (const attempt of [1, 2])
      await assert.rejects(applyBatch(db.pool, batch('sales', { attempt }), other), /injected fail-42P17/);
    assert.deepEqual(await rows(), ['30', '32']);
    assert.deepEqual(await applyBatch(db.pool, batch('sales', { attempt: 3 }), other), {
      applied: 2,
      skipped: 0,
      deadLettered: 1,
    });
    assert.deepEqual(await rows(), ['30', '32', '40', '42']);
    const dead = await db.pool.query<{ key: string }>('SELECT key FROM feed_dead_letter ORDER BY seq');
    assert.deepEqual(
      dead.rows.map((r) => (JSON.parse(r.key) as { sale_id: string }).sale_id),
      ['31', '41'],
    );
  });

  it('a row written by a repair is not moved back by a later delivery of an older change; a newer change applies and clears repaired_at', async () => {
    const t0 = new Date('2026-03-01T10:00:00.000Z');
    await applyBatch(db.pool, batch('sales'), [sale('50', { amount: 1 }, t0)]);
    // The repair read the item at 10:05:00.700 and wrote it.
    await db.pool.query(
      `UPDATE sales SET amount = 3, record = record || '{"amount": 3}', repaired_at = '2026-03-01T10:05:00.700Z' WHERE sale_id = '50'`,
    );
    const read = async () =>
      (
        await db.pool.query<{ amount: string; repaired_at: Date | null; version: string }>(
          `SELECT amount, repaired_at, version::text FROM sales WHERE sale_id = '50'`,
        )
      ).rows[0];
    // Made before the repair read the item (a higher sequence number, delivered late): skipped.
    const older = sale('50', { amount: 2 }, new Date('2026-03-01T10:04:59.000Z'));
    assert.deepEqual(await applyBatch(db.pool, batch('sales'), [older]), {
      applied: 0,
      skipped: 1,
      deadLettered: 0,
    });
    assert.equal((await read())?.amount, '3');
    assert.ok((await read())?.repaired_at, 'still marked repaired');
    // Made in the minute the repair read it (stream times are whole minutes on DynamoDB Local), no write time to tell: applied.
    const newer = sale('50', { amount: 4 }, new Date('2026-03-01T10:05:00.000Z'));
    assert.deepEqual(await applyBatch(db.pool, batch('sales'), [newer]), {
      applied: 1,
      skipped: 0,
      deadLettered: 0,
    });
    const after = await read();
    assert.equal(after?.amount, '4');
    assert.equal(after?.repaired_at, null);
    assert.equal(after?.version, newer.seq);
  });

  it('a repair (the snapshot beside the stream) racing with the stream: whichever writes first, the row ends at the newest item', async () => {
    // Change times are whole minutes (DynamoDB Local); the item's write time (synced_at) is in ms.
    const at = (t: string) => new Date(`2026-03-01T10:${t}Z`);
    const item = (amount: number, written: string, changed: string) => ({
      ...sale('70', { amount, synced_at: at(written).toISOString() }, at(changed)),
      writtenAt: at(written).toISOString(),
    });
    const v1 = item(1, '04:10.000', '04:00');
    const v2 = item(2, '05:00.200', '05:00'); // made just before the read, in its minute
    const v3 = item(3, '05:00.800', '05:00'); // made just after the read, in the same minute
    const readAt = at('05:00.500'); // the snapshot read v2
    const amount = async () =>
      (await db.pool.query<{ amount: string }>(`SELECT amount::text FROM sales WHERE sale_id = '70'`)).rows[0]
        ?.amount;
    const repair = async () => {
      const client = await db.pool.connect();
      try {
        return await repairItems(client, 'sales', [compact(v2)], readAt);
      } finally {
        client.release();
      }
    };
    // The stream first (v1, then v3 made after the read), the repair's write last: it leaves v3.
    await applyBatch(db.pool, batch('sales'), [v1]);
    await applyBatch(db.pool, batch('sales'), [v3]);
    assert.equal(await repair(), 0);
    assert.equal(await amount(), '3');
    // The repair first: v1 and v2 delivered later (made before the read) change nothing; v3 applies.
    await db.pool.query(`DELETE FROM sales`);
    await applyBatch(db.pool, batch('sales'), [v1]);
    assert.equal(await repair(), 1);
    assert.equal(await amount(), '2');
    const late = (e: ChangeEvent) => ({ ...e, seq: String(++seq) });
    assert.equal((await applyBatch(db.pool, batch('sales'), [late(v1)])).applied, 0);
    assert.equal((await applyBatch(db.pool, batch('sales'), [late(v2)])).applied, 0);
    assert.equal(await amount(), '2');
    assert.equal((await applyBatch(db.pool, batch('sales'), [late(v3)])).applied, 1);
    assert.equal(await amount(), '3');
  });

  it('feed_progress and feed_freshness keep one row per shard', async () => {
    await applyBatch(db.pool, batch('sales', { shard: 'shardId-a', lagMs: 1500 }), [sale('60')]);
    await applyBatch(db.pool, batch('sales', { shard: 'shardId-b', lagMs: 0 }), [sale('61')]);
    await applyBatch(db.pool, batch('branches', { shard: 'shardId-c', lagMs: 7 }), [
      { ...sale('0'), table: 'branches', key: { branch_id: '9' }, new: { branch_id: '9' } },
    ]);
    const { rows } = await db.pool.query<{
      table_name: string;
      shard_id: string;
      lag_ms: string;
      last_seq: string;
    }>(
      'SELECT table_name, shard_id, lag_ms::text, last_seq::text, updated_at FROM feed_freshness ORDER BY table_name, shard_id',
    );
    assert.deepEqual(
      rows.map((r) => [r.table_name, r.shard_id, r.lag_ms]),
      [
        ['branches', 'shardId-c', '7'],
        ['sales', 'shardId-a', '1500'],
        ['sales', 'shardId-b', '0'],
      ],
    );
  });

  it('migration 003 keeps the dead letter and progress rows of the older schema', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    try {
      for (const f of ['001_sql_copy.sql', '002_analyst_views.sql'])
        copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f));
      const old = await db.database(dir);
      try {
        await old.query(
          `INSERT INTO feed_dead_letter (table_name, seq, key, reason, object_key, event)
           VALUES ('sales', 5, '{"sale_id": "1", "employee_id": "2"}', 'bad', 'o', '{"seq": "5"}')`,
        );
        await old.query(
          `INSERT INTO feed_progress (table_name, shard_id, last_seq, lag_ms) VALUES ('sales', 's1', 5, 0)`,
        );
        await old.query(`INSERT INTO feed_progress (table_name, last_seq, lag_ms) VALUES ('branches', 3, 0)`);
        copyFileSync(join(MIGRATIONS_DIR, '003_feed_values.sql'), join(dir, '003_feed_values.sql'));
        assert.deepEqual(await migrate(old, dir), ['003_feed_values.sql']);
        const dead = await old.query<{ key: string; event: string }>(
          'SELECT key, event FROM feed_dead_letter',
        );
        assert.deepEqual(JSON.parse(dead.rows[0]?.key ?? ''), { sale_id: '1', employee_id: '2' });
        assert.deepEqual(JSON.parse(dead.rows[0]?.event ?? ''), { seq: '5' });
        const progress = await old.query<{ table_name: string; shard_id: string }>(
          'SELECT table_name, shard_id FROM feed_freshness ORDER BY table_name',
        );
        assert.deepEqual(
          progress.rows.map((r) => [r.table_name, r.shard_id]),
          [
            ['branches', ''],
            ['sales', 's1'],
          ],
        );
      } finally {
        await old.end();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the migrations give one schema whatever order they were applied in (004 before 003: a branch merged later)', async () => {
    const columns = async (p: pg.Pool) =>
      (
        await p.query<{ c: string }>(
          `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS c
           FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1`,
        )
      ).rows.map((r) => r.c);
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    try {
      for (const f of ['001_sql_copy.sql', '002_analyst_views.sql', '004_reconcile.sql'])
        copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f));
      const early = await db.database(dir);
      try {
        assert.deepEqual(await migrate(early), ['003_feed_values.sql', '005_sync_runs.sql', '006_voids.sql']);
        assert.deepEqual(await columns(early), await columns(db.pool));
      } finally {
        await early.end();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a repair and a stream batch writing the same new rows in opposite orders never deadlock (both go in key order)', async () => {
    const old = new Date(Date.now() - 5 * 60_000);
    const deadlocks: string[] = [];
    for (let round = 1; round <= 10; round++) {
      const ids = Array.from({ length: 2000 }, (_, i) => String(round * 100_000 + i));
      const stream = ids.map((id) => sale(id, { customer: `stream ${round}` }, old));
      const repair = [...ids].reverse().map((id) => compact(sale(id, { customer: `repair ${round}` }, old)));
      const client = await db.pool.connect();
      const repairing = (async () => {
        await client.query('BEGIN');
        try {
          await repairItems(client, 'sales', repair, new Date());
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      })();
      const results = await Promise.allSettled([applyBatch(db.pool, batch('sales'), stream), repairing]);
      client.release();
      for (const r of results)
        if (r.status === 'rejected') deadlocks.push(`round ${round}: ${(r.reason as Error).message}`);
    }
    assert.deepEqual(deadlocks, []);
  });
});
