/**
 * DynamoDB's batch calls retried for what they leave unprocessed (src/store/batch.ts). DynamoDB
 * Local never throttles, so a scripted client answers here: a throttled table answers a batch
 * with part of it unprocessed, and nothing of it may be lost or counted as done.
 */
import assert from 'node:assert/strict';
import type { BatchGetCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { batchGet, batchPut } from '../src/store/batch.js';
import { type DynamoClients, emptyStoreStats } from '../src/store/client.js';

type Sent = BatchGetCommand | BatchWriteCommand;

/** Clients whose `doc.send` gives the scripted answers in turn, keeping what was sent. */
function scripted(answers: ((cmd: Sent) => unknown)[]): { clients: DynamoClients; sent: Sent[] } {
  const sent: Sent[] = [];
  const doc = {
    send: (cmd: Sent) => {
      sent.push(cmd);
      const next = answers[Math.min(sent.length, answers.length) - 1];
      return Promise.resolve(next?.(cmd));
    },
  };
  return { clients: { doc, stats: emptyStoreStats() } as unknown as DynamoClients, sent };
}

const keys = (cmd: Sent) => (cmd as BatchGetCommand).input.RequestItems?.t?.Keys;
const puts = (cmd: Sent) => (cmd as BatchWriteCommand).input.RequestItems?.t?.length;

describe('DynamoDB batch calls with unprocessed parts', () => {
  it('asks again for the keys a BatchGetItem left unprocessed, and returns every item found', async () => {
    const { clients, sent } = scripted([
      () => ({
        Responses: { t: [{ id: 'a' }] },
        UnprocessedKeys: { t: { Keys: [{ id: 'b' }, { id: 'c' }] } },
      }),
      () => ({ Responses: { t: [{ id: 'b' }, { id: 'c' }] } }),
    ]);
    const got = await batchGet(
      clients,
      't',
      [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }],
      { ProjectionExpression: 'id', ConsistentRead: true },
      undefined,
    );
    assert.deepEqual(got, [{ id: 'a' }, { id: 'b' }, { id: 'c' }], 'd does not exist');
    assert.equal(sent.length, 2);
    assert.deepEqual(keys(sent[1] as Sent), [{ id: 'b' }, { id: 'c' }], 'only the unprocessed keys again');
    assert.equal((sent[1] as BatchGetCommand).input.RequestItems?.t?.ConsistentRead, true);
  });

  it('puts again the items a BatchWriteItem left unprocessed, counting each item once, when written', async () => {
    const { clients, sent } = scripted([
      (cmd) => ({ UnprocessedItems: { t: (cmd as BatchWriteCommand).input.RequestItems?.t?.slice(2) } }),
      () => ({}),
    ]);
    await batchPut(clients, 't', [{ id: 1 }, { id: 2 }, { id: 3 }], undefined);
    assert.deepEqual(sent.map(puts), [3, 1]);
    assert.equal(clients.stats.itemsWritten, 3);
  });

  it('fails naming the table and what was left when the table keeps throttling, and stops when aborted', async () => {
    const { clients, sent } = scripted([() => ({ UnprocessedKeys: { t: { Keys: [{ id: 'a' }] } } })]);
    await assert.rejects(
      batchGet(clients, 't', [{ id: 'a' }], { ProjectionExpression: 'id' }, undefined),
      /DynamoDB left 1 keys of t unprocessed after 8 attempts \(throttled\)/,
    );
    assert.equal(sent.length, 8);
    const stop = new AbortController();
    const aborted = scripted([
      () => {
        stop.abort();
        return { UnprocessedItems: { t: [{ PutRequest: { Item: { id: 1 } } }] } };
      },
    ]);
    await assert.rejects(batchPut(aborted.clients, 't', [{ id: 1 }], stop.signal), { name: 'AbortError' });
    assert.equal(aborted.sent.length, 1, 'no request after the abort');
    assert.equal(aborted.clients.stats.itemsWritten, 0);
  });
});
