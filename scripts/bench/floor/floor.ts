/**
 * The orchestration floor (`npm run bench:floor`): what Temporal alone costs per salesperson
 * on this machine. Runs the cascade's shape (parent -> child per branch -> child per
 * salesperson -> one activity on the rate-limited vendor queue) with the product's worker
 * options, concurrency windows and activity options, on the same dev server as the
 * benchmark, but with an activity that does no I/O: no vendor, no DynamoDB, no landing zone,
 * no payload codec. Prints wall time against the quota's bound and the CPU seconds of the
 * server and of this process (which is the worker), per salesperson. BENCHMARKS.md,
 * "Orchestration cost", uses it to show the part no change to the product's own code reaches.
 *
 *   npm run bench:floor -- [--quota 100] [--branches 40] [--salespersons 50]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectClient, localTemporal } from '../../../src/client.js';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import {
  DEFAULT_BRANCH_CONCURRENCY,
  DEFAULT_SALESPERSON_CONCURRENCY,
} from '../../../src/shared/concurrency.js';
import { rateLimitFor } from '../../../src/config/vendor.js';
import { PROJECT_ROOT } from '../../../src/node/root.js';
import { taskQueues } from '../../../src/shared/task-queues.js';
import { type WorkerSetup, installRuntime, workerOptions } from '../../../src/worker.js';
import { cpuSeconds, hostCpu } from '../../lib/proc.js';
import { StopList } from '../../lib/stop-list.js';
import { freePort, startTemporalDevServer } from '../../stack.js';
import { countersBetween, machine, serverCounter } from '../measure.js';
import type { FloorShape, floorParent } from './workflows.js';

function positive(name: string, raw: string): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got "${raw}".`);
  return v;
}

/** Bundles the floor's workflows and runs the product's workers on them with the floor's activity. */
async function startFloorWorkers(
  address: string,
  quota: number,
  stops: StopList,
): Promise<ReturnType<typeof taskQueues>> {
  const dir = mkdtempSync(join(tmpdir(), 'floor-'));
  stops.add('bundle', () => rmSync(dir, { recursive: true, force: true }));
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(PROJECT_ROOT, 'scripts', 'bench', 'floor', 'workflows.ts'),
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} },
  });
  const codePath = join(dir, 'floor-workflows.js');
  writeFileSync(codePath, code);

  const connection = await NativeConnection.connect({ address });
  stops.add('worker connection', () => connection.close());
  const queues = taskQueues(`-floor-${Date.now()}`);
  const activities = { page: (employeeId: string) => Promise.resolve({ employeeId, pages: 1 }) };
  // The product's worker options with the floor's workflows and its own activity (same
  // queues, same options): scripts/bench/floor/workflows.ts.
  const options = workerOptions({
    connection,
    namespace: 'default',
    queues,
    activities: activities as unknown as WorkerSetup['activities'],
    workflowActivities: {} as WorkerSetup['workflowActivities'],
    rateLimitRps: rateLimitFor(quota),
  });
  const workers = [
    await Worker.create({ ...options.workflows, workflowBundle: { codePath } }),
    await Worker.create(options.vendor),
  ];
  const running = Promise.all(workers.map((w) => w.run()));
  stops.add('workers', async () => {
    workers.forEach((w) => w.shutdown());
    await running;
  });
  return queues;
}

/** The host's busy share between two readings of hostCpu (NaN when either is missing). */
function busyShare(host0: ReturnType<typeof hostCpu>, host1: ReturnType<typeof hostCpu>): number {
  return host0 && host1 ? 1 - (host1.idle - host0.idle) / (host1.total - host0.total) : NaN;
}

/** Prints the floor: wall time against the bound, CPU per salesperson, the server's requests by type. */
function printFloor(f: {
  branches: number;
  salespersons: number;
  quota: number;
  wall: number;
  server: number;
  worker: number;
  busy: number;
  requests: ReturnType<typeof countersBetween>;
}): void {
  const { branches, salespersons, quota, wall, server, worker, busy, requests } = f;
  const total = branches * salespersons;
  const bound = total / quota;
  const ms = (s: number) => ((s * 1000) / total).toFixed(1);
  const m = machine();
  console.log(`orchestration floor: ${branches} branches x ${salespersons} salespersons, quota ${quota}/s`);
  console.log(`machine: ${m.nproc} CPUs (${m.cpuModel}), Node ${m.node}, ${m.temporal}`);
  console.log(
    `wall ${wall.toFixed(1)} s; bound ${bound.toFixed(1)} s (one activity per salesperson); wall / bound ${(wall / bound).toFixed(3)}`,
  );
  console.log(`host CPU busy ${(busy * 100).toFixed(1)}%`);
  console.log(`CPU s: temporal / worker   ${server.toFixed(1)} / ${worker.toFixed(1)}`);
  console.log(
    `CPU ms per salesperson: temporal / worker   ${ms(server)} / ${ms(worker)}; together ${ms(server + worker)}`,
  );
  console.log(
    `frontend requests: ${requests.total} (${(requests.total / total).toFixed(1)} per salesperson)`,
  );
  for (const [op, count] of Object.entries(requests.byType).sort((a, b) => b[1] - a[1]))
    console.log(
      `  ${op.padEnd(36)} ${String(count).padStart(8)}  ${(count / total).toFixed(2)} per salesperson`,
    );
}

async function main() {
  const { values } = parseArgs({
    options: {
      quota: { type: 'string', default: '100' },
      branches: { type: 'string', default: '40' },
      salespersons: { type: 'string', default: '50' },
    },
  });
  const quota = positive('quota', values.quota);
  const branches = positive('branches', values.branches);
  const salespersons = positive('salespersons', values.salespersons);
  const total = branches * salespersons;
  const stops = new StopList();
  try {
    await installRuntime({ logLevel: 'WARN' });
    const temporal = await startTemporalDevServer({
      port: await freePort(),
      uiPort: await freePort(),
      metricsPort: await freePort(),
    });
    const metricsUrl = temporal.metricsUrl ?? '';
    const frontendRequests = () =>
      serverCounter(metricsUrl, 'service_requests', 'operation', [
        'service_name="frontend"',
        'namespace="default"',
      ]);
    stops.add(temporal.name, () => temporal.stop());
    const queues = await startFloorWorkers(temporal.address, quota, stops);
    const { client, close } = await connectClient(localTemporal(temporal.address), undefined);
    stops.add('client connection', close);
    const shape: FloorShape = {
      branches,
      salespersons,
      branchConcurrency: DEFAULT_BRANCH_CONCURRENCY,
      salespersonConcurrency: DEFAULT_SALESPERSON_CONCURRENCY,
      vendorQueue: queues.vendor,
    };

    const requests0 = await frontendRequests();
    const host0 = hostCpu();
    const server0 = cpuSeconds(temporal.child.pid) ?? 0;
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    const done = await client.workflow.execute<typeof floorParent>('floorParent', {
      taskQueue: queues.workflows,
      workflowId: `floor-${Date.now()}`,
      args: [shape],
    });
    const wall = (performance.now() - t0) / 1000;
    const server = (cpuSeconds(temporal.child.pid) ?? 0) - server0;
    const u = process.cpuUsage(self0);
    const worker = (u.user + u.system) / 1e6;
    const host1 = hostCpu();
    // The server's counters reach its metrics endpoint on a reporting interval: let the last ones in.
    await new Promise((r) => setTimeout(r, 3000));
    const requests = countersBetween(requests0, await frontendRequests());
    if (done !== total) throw new Error(`the floor run completed ${done} of ${total} salespersons`);

    printFloor({
      branches,
      salespersons,
      quota,
      wall,
      server,
      worker,
      busy: busyShare(host0, host1),
      requests,
    });
  } finally {
    for (const failure of await stops.stopAll()) console.error(`stopping ${failure}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
