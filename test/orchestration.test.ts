/**
 * The orchestration rules alone: the three workflows on Temporal's time-skipping server with
 * stub activities (an in-memory vendor), as the Temporal samples test workflows. Fast, and
 * it isolates fan-out, failure tolerance, continue-as-new, shared and vanished salespersons
 * from HTTP and DynamoDB, which the end-to-end tests cover on real servers.
 */
/* eslint-disable @typescript-eslint/require-await -- stub activities answer at once, yet Temporal calls them as async functions */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../src/activities/index.js';
import type { NotifyActivities } from '../src/activities/notify.js';
import type { StateActivities } from '../src/activities/types.js';
import { emptyTableCounts } from '../src/shared/summary.js';
import { taskQueues } from '../src/shared/task-queues.js';
import { createWorkers } from '../src/worker.js';
import { salesSyncWorkflow } from '../src/workflows/index.js';
import type { SalesSyncInput } from '../src/workflows/types.js';
import { startTimeSkipping } from './helpers/harness.js';
import type { RunOutcome } from './helpers/harness.js';

/** An in-memory vendor: branch name -> id and salesperson ids; sales per salesperson. */
interface Model {
  branches: Record<string, { id: string; salespersons: string[] }>;
  /** Sales per salesperson; absent: the vendor answers 404 (vanished). */
  sales: Record<string, number>;
  /** Branch names whose employee list fails for good. */
  failing?: string[];
  /** Page size of the stub lists. */
  pageSize?: number;
}

/** Stub activities over a model, counting every call. */
function stubs(model: Model) {
  const calls = { lookupBranch: 0, syncEmployeesPage: 0, syncSalesPage: new Map<string, number>() };
  const size = model.pageSize ?? 1000;
  const page = <T>(all: T[], token: string | null) => {
    const start = token ? Number(token) : 0;
    const next = start + size < all.length ? String(start + size) : null;
    return { items: all.slice(start, start + size), next };
  };
  const activities: Activities = {
    landedBranches: async () => {
      throw new Error('not a replay');
    },
    lookupBranch: async ({ name }) => {
      calls.lookupBranch++;
      const b = model.branches[name];
      return {
        branch: b ? { id: b.id, name } : null,
        counts: { branches: { ...emptyTableCounts(), fetched: b ? 1 : 0, inserted: b ? 1 : 0 } },
      };
    },
    listBranchesPage: async () => ({
      branches: Object.entries(model.branches).map(([name, b]) => ({ id: b.id, name })),
      nextPageToken: null,
      counts: {},
    }),
    syncEmployeesPage: async ({ branchId, pageToken }) => {
      calls.syncEmployeesPage++;
      const [name, b] = Object.entries(model.branches).find(([, x]) => x.id === branchId) ?? [];
      if (!b || model.failing?.includes(name ?? ''))
        throw ApplicationFailure.nonRetryable(`no employees for branch ${branchId}`, 'VendorRequestRejected');
      const { items, next } = page(b.salespersons, pageToken);
      return {
        salespersonIds: items,
        nextPageToken: next,
        counts: { salespersons: { ...emptyTableCounts(), fetched: items.length, inserted: items.length } },
      };
    },
    syncSalesPage: async ({ employeeId, pageToken }) => {
      calls.syncSalesPage.set(employeeId, (calls.syncSalesPage.get(employeeId) ?? 0) + 1);
      const n = model.sales[employeeId];
      if (n === undefined) return { nextPageToken: null, counts: {}, vanished: true };
      const { items, next } = page(
        Array.from({ length: n }, (_, i) => i),
        pageToken,
      );
      return {
        nextPageToken: next,
        counts: { sales: { ...emptyTableCounts(), fetched: items.length, inserted: items.length } },
      };
    },
  };
  // The sync's state, kept in memory: these tests judge the orchestration, not the store.
  const watermarks = new Map<string, string>();
  const notify: NotifyActivities & StateActivities = {
    notifyWebhook: async () => 'not configured',
    notifySns: async () => 'not configured',
    followUp: async () => false,
    branchState: async ({ branchId }) => ({ watermark: watermarks.get(branchId) ?? null, lastSweepAt: null }),
    checkVoids: async ({ listedIds }) => ({ stored: listedIds.length, voided: 0 }),
    markDepartures: async ({ listedIds }) => ({ stored: listedIds.length, departed: 0 }),
    markHistoryLoaded: async () => undefined,
    advanceBranch: async ({ branchId, watermark }) => {
      const kept = [watermarks.get(branchId) ?? '', watermark].sort().pop() ?? watermark;
      watermarks.set(branchId, kept);
      return { watermark: kept };
    },
  };
  return { activities, notify, calls };
}

describe('orchestration rules (time-skipping server, stub activities)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await startTimeSkipping();
  });
  after(async () => {
    await env?.teardown();
  });

  async function run(model: Model, input: SalesSyncInput) {
    const { activities, notify, calls } = stubs(model);
    const queues = taskQueues(`-${randomUUID().slice(0, 8)}`);
    const [first, ...rest] = await createWorkers({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      queues,
      activities,
      workflowActivities: notify,
      rateLimitRps: 1000,
    });
    assert.ok(first);
    const others = rest.map((w) => w.run());
    let outcome: RunOutcome;
    try {
      outcome = await first.runUntil(
        env.client.workflow
          .execute(salesSyncWorkflow, {
            taskQueue: queues.workflows,
            workflowId: `orchestration-${randomUUID().slice(0, 8)}`,
            // No feed worker: no sync_runs row (an abandoned child would hold the server's clock).
            args: [
              {
                vendorTaskQueue: queues.vendor,
                feedTaskQueue: null,
                window: 'full',
                searchAttributes: false,
                ...input,
              },
            ],
          })
          .then(
            (summary) => ({ ok: true as const, summary, workflowId: '' }),
            (err: unknown) => {
              const cause = (err as { cause?: { details?: unknown[]; message?: string } }).cause;
              return {
                ok: false as const,
                summary: cause?.details?.[0] as RunOutcome['summary'],
                message: cause?.message ?? String(err),
                workflowId: '',
              };
            },
          ),
      );
    } finally {
      for (const w of rest) w.shutdown();
      await Promise.all(others);
    }
    return { ...outcome, calls };
  }

  const threeBranches = (): Model => ({
    branches: {
      Akron: { id: '1', salespersons: ['11', '12', '13'] },
      Albany: { id: '2', salespersons: ['21', '22'] },
      Utica: { id: '3', salespersons: ['31'] },
    },
    sales: { '11': 3, '12': 0, '13': 5, '21': 2, '22': 1, '31': 4 },
  });

  it('fans out one child per branch and one per salesperson, and adds up their counts', async () => {
    const r = await run(threeBranches(), { branches: ['Akron', 'Albany', 'Utica', 'Gotham'] });
    assert.ok(r.ok);
    assert.equal(r.summary.branchesRequested, 4);
    assert.equal(r.summary.branchesSynced, 3);
    assert.deepEqual(r.summary.unknownBranches, ['Gotham']);
    assert.equal(r.summary.salespersonsSynced, 6);
    assert.equal(r.summary.counts.sales.inserted, 15);
    assert.equal(r.summary.counts.salespersons.inserted, 6);
    assert.deepEqual([...r.calls.syncSalesPage.values()], [1, 1, 1, 1, 1, 1], 'one page each');
  });

  it('fails the run listing a failed branch, unless the tolerated share allows it', async () => {
    const model = { ...threeBranches(), failing: ['Albany'] };
    const strict = await run(model, { branches: ['Akron', 'Albany'] });
    assert.equal(strict.ok, false);
    assert.deepEqual(
      strict.summary.failedBranches.map((f) => f.branch),
      ['Albany'],
    );
    assert.match(strict.summary.failedBranches[0]?.reason ?? '', /no employees for branch 2/);
    assert.equal(strict.summary.branchesSynced, 1, 'the other branch still ran');
    const tolerant = await run(model, { branches: ['Akron', 'Albany'], toleratedFailurePercent: 50 });
    assert.ok(tolerant.ok);
  });

  it('continues every level as new past its history budget with the same totals and no page twice', async () => {
    const model: Model = {
      branches: {
        Akron: { id: '1', salespersons: Array.from({ length: 12 }, (_, i) => String(100 + i)) },
        Albany: { id: '2', salespersons: ['200', '201'] },
        Utica: { id: '3', salespersons: ['300'] },
      },
      sales: Object.fromEntries(
        ['200', '201', '300', ...Array.from({ length: 12 }, (_, i) => String(100 + i))].map((id) => [id, 9]),
      ),
      pageSize: 2,
    };
    const r = await run(model, { branches: ['Akron', 'Albany', 'Utica'], historyBudget: 20 });
    assert.ok(r.ok);
    assert.equal(r.summary.salespersonsSynced, 15);
    assert.equal(r.summary.counts.sales.inserted, 15 * 9);
    for (const [id, pages] of r.calls.syncSalesPage)
      assert.equal(pages, 5, `salesperson ${id}: 9 sales in 5 pages`);
  });

  it('fetches a salesperson listed under two branches once, and reports one who vanished', async () => {
    const model = threeBranches();
    model.branches.Albany?.salespersons.push('11'); // a transfer in progress
    delete model.sales['31']; // listed, then gone (404)
    const r = await run(model, { branches: ['Akron', 'Albany', 'Utica'], branchConcurrency: 1 });
    assert.ok(r.ok);
    assert.equal(r.calls.syncSalesPage.get('11'), 1);
    assert.equal(r.summary.salespersonsShared, 1);
    assert.deepEqual(r.summary.vanishedSalespersons, [{ branch: 'Utica', employeeId: '31' }]);
    assert.equal(r.summary.salespersonsSynced, 5);
  });
});
