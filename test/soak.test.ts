/**
 * Soak (short form): many hourly runs on the time-skipping server with mutations and
 * faults on, then a clean run, compared with the simulator's truth: equal, nothing lost,
 * nothing extra, and every record set aside accounted for. `SOAK_RUNS=48 npx mocha
 * test/soak.test.ts` runs the long form (two simulated days).
 */
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DynamoLocal, ObjectServer } from '../scripts/stack.js';
import { DEFAULT_BRANCHES } from '../src/shared/branches.js';
import { contentHash } from '../src/store/index.js';
import { salesSyncWorkflow } from '../src/workflows/index.js';
import { TABLES, expectedRecords, itemKey } from '../src/sim/expected.js';
import type { Dataset } from '../src/sim/index.js';
import { Pipeline, startDynamo, startObjects, startTimeSkipping } from './helpers/harness.js';
import { assertTablesMatch, expectedTables } from './helpers/truth.js';

const HOUR = 3_600_000;
const RUNS = Number(process.env.SOAK_RUNS ?? 6);

/** Every version of every record the vendor has served, by table and key (content hashes). */
class Versions {
  readonly seen = new Map<string, Set<string>>();
  record(ds: Dataset): void {
    const branchNames = ds.branches.map((b) => b.branch_name);
    for (const { table, key, record } of expectedRecords(ds, branchNames)) {
      const set = this.seen.get(`${table}|${key}`) ?? new Set<string>();
      set.add(contentHash(record));
      this.seen.set(`${table}|${key}`, set);
    }
  }
}

describe('soak: hourly runs with mutations and faults (time-skipping server)', function () {
  this.timeout(600_000);
  let env: TestWorkflowEnvironment;
  let dynamo: DynamoLocal;
  let objects: ObjectServer;
  let p: Pipeline | undefined;
  before(async () => {
    [env, dynamo, objects] = await Promise.all([startTimeSkipping(), startDynamo(), startObjects()]);
  });
  after(async () => {
    await p?.stop();
    await env?.teardown();
    await dynamo?.stop();
    await objects?.stop();
  });

  it(`${RUNS} hourly runs with mutations and faults end equal to the vendor, every set-aside record accounted for`, async () => {
    const t0 = Date.parse('2026-06-01T00:00:00Z');
    // Sales span the 4 hours before t0 and every window is 24 hours, so each run sees every sale.
    p = await Pipeline.create(env, dynamo, objects, {
      seed: 31,
      anchorTime: t0,
      salesSpanHours: 4,
      employeesPerBranch: 6,
      salesPerSalesperson: 6,
      badRecordKinds: ['missingId', 'badTimestamp', 'stringNumber'],
    });
    const pipeline = p;
    const versions = new Versions();
    const faults = {
      error5xx: 0.05,
      drop: 0.02,
      html: 0.02,
      nonJson: 0.02,
      badRecord: 0.02,
      repeatToken: 0.02,
    };
    let setAside = 0;
    const run = (hour: number) =>
      env.client.workflow.execute(salesSyncWorkflow, {
        taskQueue: pipeline.queues.workflows,
        workflowId: `soak-${pipeline.queues.workflows}-${hour}`,
        args: [
          // No feed worker: no sync_runs row (an abandoned child would hold the server's clock).
          {
            vendorTaskQueue: pipeline.queues.vendor,
            feedTaskQueue: null,
            windowEnd: new Date(t0 + hour * HOUR).toISOString(),
          },
        ],
      });

    await pipeline.withWorkers(async () => {
      versions.record(pipeline.sim.dataset);
      pipeline.sim.setFaults(faults);
      for (let hour = 1; hour <= RUNS; hour++) {
        if (hour > 1) {
          pipeline.sim.mutate({
            seed: hour,
            now: t0 + hour * HOUR - HOUR / 2,
            newSales: 3,
            correctedSales: 3,
            transfers: 1,
            departures: 0,
            branchChanges: 1,
          });
          versions.record(pipeline.sim.dataset);
        }
        const s = await run(hour);
        assert.deepEqual(s.failedBranches, [], `run ${hour}: no branch failed after retries`);
        setAside += s.counts.branches.setAside + s.counts.salespersons.setAside + s.counts.sales.setAside;
        // Nothing wrong is ever stored: each item is a version the vendor really served.
        for (const table of TABLES) {
          for (const item of await pipeline.store.scanAll(table)) {
            const key = `${table}|${itemKey(table, item)}`;
            assert.ok(
              versions.seen.get(key)?.has(String(item.content_hash)),
              `run ${hour}: ${key} holds content the vendor never served`,
            );
          }
        }
      }
      const injected = pipeline.sim.injectedBadRecords().length;
      const faultCounts = pipeline.sim.counters().faultsInjected;
      assert.ok(
        injected > 0 && faultCounts.error5xx > 0 && faultCounts.html + faultCounts.nonJson > 0,
        'faults were injected',
      );
      assert.equal(setAside, injected, 'every record the vendor corrupted was set aside and counted');

      // Faults off: one more hourly run, and the tables equal the vendor's data exactly.
      pipeline.sim.setFaults({ error5xx: 0, drop: 0, html: 0, nonJson: 0, badRecord: 0, repeatToken: 0 });
      const last = await run(RUNS + 1);
      assert.equal(last.counts.sales.setAside, 0);
    }, 4);
    await assertTablesMatch(pipeline.store, expectedTables(pipeline.sim.dataset, DEFAULT_BRANCHES));
    const quarantined = await pipeline.store.scanAll('quarantine');
    assert.ok(
      quarantined.some((q) => q.kind !== 'body'),
      'bad records are in the quarantine table',
    );
  });
});
