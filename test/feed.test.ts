/**
 * The change feed end to end on real servers: DynamoDB Local's streams, the Temporal dev server
 * (the consumers run for ever), PostgreSQL, and the object store.
 */
import assert from 'node:assert/strict';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { useStack } from './helpers/harness.js';
import { useFeed } from './helpers/feed.js';

describe('change feed (DynamoDB Streams -> Temporal consumer -> change objects -> PostgreSQL)', function () {
  this.timeout(240_000);
  const stack = useStack('dev-server', { seed: 13, employeesPerBranch: 3, salesPerSalesperson: 4 });
  const feeds = useFeed(stack);

  it('after a run the PostgreSQL tables equal the DynamoDB tables field by field; an unchanged run adds no event', async () => {
    const p = await stack.pipeline();
    const f = await feeds.feed(p);
    await p.withWorkers(() => p.run({ window: 'full', branches: [...DEFAULT_BRANCHES] }));
    await f.caughtUp();
    const first = await f.events();
    const items = (await p.store.scanAll('branches')).length + (await p.store.scanAll('salespersons')).length + (await p.store.scanAll('sales')).length;
    assert.equal(first.length, items, 'one INSERT event per item');
    assert.ok(first.every((e) => e.op === 'INSERT' && e.run && e.window?.startsWith('full-')));
    await p.withWorkers(() => p.run({ window: 'full', branches: [...DEFAULT_BRANCHES] }));
    // Long enough for a batch to be cut and applied had anything changed.
    await new Promise((r) => setTimeout(r, 4000));
    assert.equal((await f.events()).length, first.length, 'an unchanged run produced change events');
    await f.caughtUp();
  });
});
