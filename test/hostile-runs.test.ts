/**
 * Whole runs against servers that speak the contract but are not the simulator, on the
 * time-skipping server and DynamoDB Local: no record stops a run, a salesperson who vanished
 * is reported, notices are separate steps, and neither a webhook URL nor a record reaches a
 * history or a log line. (Runs side by side are in run-identity.test.ts, on the dev server:
 * the time-skipping server's clock does not take concurrent waits.)
 */
import assert from 'node:assert/strict';
import { SNSClient } from '@aws-sdk/client-sns';
import { ExactNumber } from '../src/shared/exact-json.js';
import type { SalesSyncInput } from '../src/workflows/types.js';
import { type Pipeline, SIM_KEY, useStack } from './helpers/harness.js';
import { allHistories, captureOutput } from './helpers/evidence.js';
import { RECEIVER_SECRET, receiver } from './helpers/receiver.js';
import { oneBranch, saleText, send, useScriptedVendors } from './helpers/scripted-vendor.js';

describe('runs against a vendor that is not the simulator (time-skipping server, DynamoDB Local)', function () {
  this.timeout(180_000);
  const stack = useStack('time-skipping');
  const scripted = useScriptedVendors(stack);

  let runs = 0;
  const run = (p: Pipeline, input: SalesSyncInput) =>
    p.run({ branches: ['Akron'], window: 'full', ...input }, `hostile-${++runs}-${p.queues.workflows}`);

  it('a sale with a number past 2^53 is stored with every digit, and the run succeeds', async () => {
    const { vendor, p } = await scripted(
      oneBranch('7', '42', [saleText('1', '"ean":12345678901234567890'), saleText('2', '"weight":1e400')]),
      SIM_KEY,
    );
    const r = await p.withWorkers(() => run(p, {}));
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.equal(r.summary.counts.sales.inserted, 1);
    assert.equal(r.summary.counts.sales.setAside, 1);
    assert.equal(vendor.seen('/sales').length, 1, 'no page was asked again');
    const [sale] = await p.store.scanAll('sales');
    assert.ok(sale?.ean instanceof ExactNumber && sale.ean.text === '12345678901234567890');
  });

  it('reports a salesperson the vendor no longer knows (404) instead of failing the branch', async () => {
    const data = oneBranch('7', '42', [saleText('1')]);
    data.employees['7']?.push('{"id":43,"occupation":"salesperson","name":"Gone Already"}');
    const { p } = await scripted(data, SIM_KEY);
    const r = await p.withWorkers(() => run(p, {}));
    assert.ok(r.ok, r.ok ? '' : r.message);
    assert.deepEqual(r.summary.vanishedSalespersons, [{ branch: 'Akron', employeeId: '43' }]);
    assert.equal(r.summary.salespersonsSynced, 1);
    assert.deepEqual(r.summary.failedBranches, []);
  });

  it('sends the webhook notice once even when the SNS topic keeps failing', async () => {
    const hook = await receiver();
    const sns = await receiver(500);
    try {
      const { p } = await scripted(oneBranch('7', '42', []), SIM_KEY, (req, res) =>
        req.path === '/employees' ? send(res, 503, '{"error":"down"}') : false,
      );
      const client = new SNSClient({
        region: 'us-east-1',
        endpoint: new URL(sns.url).origin,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      });
      const r = await p.withWorkers(() => run(p, {}), 50, {
        webhookUrl: hook.url,
        sns: { client, topicArn: 'arn:aws:sns:us-east-1:123456789012:sales-sync-alerts' },
      });
      assert.equal(r.ok, false);
      assert.equal(hook.raw.length, 1, 'the webhook got one notice');
      assert.ok(sns.raw.length > 1, `SNS was retried (${sns.raw.length} attempts)`);
      assert.match(r.summary.notice ?? '', /sent to webhook; sns could not be sent/);
    } finally {
      await hook.close();
      await sns.close();
    }
  });

  it('keeps the webhook URL and record fields out of histories, failures, summaries and logs', async () => {
    const hook = await receiver(500);
    const record = 'Zanzibar-Customer-4711';
    try {
      // Every /sales answer is a truncated body that holds a record: the salesperson fails.
      const { p } = await scripted(oneBranch('7', '42', []), SIM_KEY, (req, res) =>
        req.path === '/sales'
          ? send(res, 200, `{"result":{"employee_id":42,"sales":[{"id":1,"customer":"${record}","amo`)
          : false,
      );
      const { result: r, output } = await captureOutput(() =>
        p.withWorkers(() => run(p, {}), 50, { webhookUrl: hook.url, followUpUrl: hook.url }),
      );
      assert.equal(r.ok, false);
      assert.ok(hook.raw.length > 0, 'the webhook was called (and failed)');
      assert.match(r.summary.notice ?? '', /webhook could not be sent: .*127\.0\.0\.1:\d+ answered 500/);
      const text = [
        (await allHistories(stack.env.client, r.workflowId)).text,
        output,
        JSON.stringify(r),
      ].join('\n');
      assert.ok(text.includes('Akron'), 'the histories were read');
      assert.ok(!text.includes(RECEIVER_SECRET), 'the webhook URL is in no history, summary or log');
      assert.ok(!text.includes(record), 'no record field is in a history, failure or log');
      const q = await p.store.scanAll('quarantine');
      assert.ok(
        q.some((e) => e.kind === 'body' && String(e.raw).includes(record)),
        'the body is in quarantine',
      );
    } finally {
      await hook.close();
    }
  });
});
