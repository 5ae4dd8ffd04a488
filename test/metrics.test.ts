/**
 * The worker's Prometheus endpoint during a real run of the local stack (`npm start`, on free
 * ports and a fresh DATA_DIR), against a vendor simulator this test starts with a lower quota
 * than the workers dispatch at (so it answers 429), 5xx answers, dropped connections and bad
 * records. The endpoint is scraped while the run goes and after it ends:
 * - one endpoint serves the Temporal SDK's runtime metrics and the sync's;
 * - the request counters grow during the run; the run counters are recorded once, at its end;
 * - the run counters equal the run's summary, and the request counters what the vendor saw;
 * - no label carries an id or a branch name;
 * - the dashboard and the alert rules read only metrics the worker exports.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ROOT, freePort, stopChild } from '../scripts/stack.js';
import {
  ALL_METRICS,
  BRANCH_OUTCOMES,
  COMPLETENESS as C,
  ITEM_OUTCOMES,
  RUN,
  RUN_OUTCOMES,
  SLOW_RUN_SECONDS,
  TABLES,
  VENDOR,
  VENDOR_PATHS,
  exportedName,
} from '../src/metrics/definitions.js';
import { startReconcile, sweepScheduleId } from '../src/client.js';
import { emptyCompleteness } from '../src/shared/completeness.js';
import { SCHEDULE_ID } from '../src/shared/ids.js';
import type { SyncSummary } from '../src/shared/summary.js';
import { VendorSimulator } from '../src/sim/index.js';
import { SIM_KEY } from './helpers/harness.js';
import { ALLOWED_LABELS } from './helpers/metric-labels.js';
import { userEnv } from './helpers/start-process.js';
import { type Sample, metricNames, promqlBlockQueries, scrape, total } from './helpers/prometheus.js';

/** The environment of `npm start` in this test: its ports, the test's simulator, no encryption. */
function mainJobEnv(ports: Record<string, number>, dataDir: string, simUrl: string): Record<string, string> {
  return userEnv({
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    DATA_DIR: dataDir,
    VENDOR_API_URL: simUrl,
    VENDOR_API_KEY: SIM_KEY,
    VENDOR_QUOTA_RPS: '20',
    VENDOR_PAGE_SIZE: '10',
    PAYLOAD_ENCRYPTION: 'off',
    // Two cached workflows for some 70 open ones: the parent is evicted and replayed from its
    // history again and again, and must still be counted once.
    WORKER_MAX_CACHED_WORKFLOWS: '2',
  });
}

const requests = exportedName(VENDOR.requests);
const runLabels = {
  namespace: 'default',
  taskQueue: 'sales-sync-workflows',
  workflowType: 'salesSyncWorkflow',
};

describe('metrics: the worker endpoint during a real run of the local stack (npm start)', function () {
  this.timeout(300_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'metrics-stack-'));
  let sim: VendorSimulator;
  let child: ChildProcess | undefined;
  let output = '';
  let metricsUrl = '';
  let summary: SyncSummary;
  let succeeded = false;
  let runStarted = 0;
  /** Scrapes taken from the run's start until `npm start` reported its end. */
  const during: Sample[][] = [];
  let final: Sample[] = [];

  before(async function () {
    this.timeout(360_000);
    // A quota of 1 request a second while the workers dispatch up to 18: the vendor answers 429s
    // (raised to 20 once it has, so the run does not take minutes).
    sim = await VendorSimulator.start({
      apiKeys: [SIM_KEY],
      quota: 1,
      latencyMs: 20,
      employeesPerBranch: 2,
      salesPerSalesperson: 30,
      faults: { error5xx: 0.05, drop: 0.05, badRecord: 0.02 },
      faultSeed: 14,
    });
    const ports = {
      TEMPORAL_PORT: await freePort(),
      TEMPORAL_UI_PORT: await freePort(),
      DYNAMODB_LOCAL_PORT: await freePort(),
      S3_LOCAL_PORT: await freePort(),
      METRICS_PORT: await freePort(),
    };
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
      cwd: ROOT,
      env: mainJobEnv(ports, dataDir, sim.url),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 300_000;
    const wait = async (what: RegExp) => {
      while (!what.test(output)) {
        if (child?.exitCode !== null) throw new Error(`npm start exited with ${child?.exitCode}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`npm start did not print ${what}:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await wait(/^first run\s+\S+/m);
    runStarted = Date.now();
    metricsUrl = /^worker metrics\s+(http\S+)/m.exec(output)?.[1] ?? '';
    assert.equal(metricsUrl, `http://127.0.0.1:${ports.METRICS_PORT}/metrics`, output);
    const address = /^Temporal\s+(\S+)/m.exec(output)?.[1] ?? '';
    const firstRun = /^first run\s+(\S+)/m.exec(output)?.[1] ?? '';
    const connection = await Connection.connect({ address });
    try {
      const client = new Client({ connection });
      // No hourly run may start while the test reads the counters (the test may cross the hour).
      for (const id of [SCHEDULE_ID, sweepScheduleId('lookback'), sweepScheduleId('full')])
        await client.schedule.getHandle(id).pause('metrics test');
      // Scrape as the run goes, until npm start prints its outcome.
      while (!/^run \S+ (succeeded|failed)/m.test(output)) {
        during.push(await scrape(metricsUrl));
        if (sim.counters().throttled429 >= 3) sim.setQuota(20);
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`the run did not end:\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      await wait(/^serving the hourly schedule/m);
      // The copy's drift gauge is set by the reconcile (daily on its schedule): one now, so the
      // scrape holds what its alert reads.
      await (await startReconcile(client, '', { settleSeconds: 0 })).result();
      final = await scrape(metricsUrl);
      summary = await client.workflow
        .getHandle(firstRun)
        .result()
        .then(
          (s: SyncSummary) => ((succeeded = true), s),
          (err: unknown) => {
            if (!(err instanceof WorkflowFailedError)) throw err;
            return (err.cause as { details?: unknown[] }).details?.[0] as SyncSummary;
          },
        );
    } finally {
      await connection.close();
    }
  });

  after(async () => {
    if (child) await stopChild(child, 15_000);
    await sim?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('one endpoint serves the Temporal SDK runtime metrics and every metric of the sync', () => {
    const names = new Set(final.map((s) => s.name));
    for (const sdk of [
      'temporal_workflow_task_schedule_to_start_latency_seconds_bucket',
      'temporal_activity_execution_latency_seconds_bucket',
      'temporal_worker_task_slots_available',
      'temporal_sticky_cache_size',
      'temporal_workflow_completed_total',
    ])
      assert.ok(names.has(sdk), `${sdk} is not served`);
    for (const def of ALL_METRICS) {
      const name = def.kind === 'histogram' ? `${def.name}_count` : exportedName(def);
      assert.ok(names.has(name), `${name} is not served`);
    }
    // Durations are in seconds, counters end in _total.
    assert.deepEqual(
      [...names].filter((n) => /_latency(_bucket|_sum|_count)?$/.test(n) || /_milliseconds/.test(n)),
      [],
    );
  });

  it('the request counters grow during the run; the run counters are recorded at its end', () => {
    const last = total(final, requests);
    // A scrape that has not seen every request was taken before the run ended.
    const unfinished = during.filter((s) => total(s, requests) < last);
    assert.ok(
      unfinished.some((s) => total(s, requests) > 0),
      `no scrape during the run saw some but not all requests (${during.length} taken)`,
    );
    for (const s of unfinished) {
      assert.equal(total(s, exportedName(RUN.runs)), 0, 'a run was counted before it ended');
      // The series the alerts read exist, at 0, before the first run ends.
      assert.equal(s.filter((x) => x.name === exportedName(RUN.runs)).length, RUN_OUTCOMES.length);
    }
  });

  it("the run counters equal the run's summary", () => {
    assert.ok(summary, 'the run has a summary');
    for (const outcome of RUN_OUTCOMES)
      assert.equal(
        total(final, exportedName(RUN.runs), { ...runLabels, outcome }),
        outcome === (succeeded ? 'succeeded' : 'failed') ? 1 : 0,
        outcome,
      );
    const branches: Record<(typeof BRANCH_OUTCOMES)[number], number> = {
      synced: summary.branchesSynced,
      unknown: summary.unknownBranches.length,
      failed: summary.failedBranches.length,
      skipped: summary.skippedBranches.length,
    };
    for (const outcome of BRANCH_OUTCOMES)
      assert.equal(total(final, exportedName(RUN.branches), { outcome }), branches[outcome], outcome);
    const field = {
      inserted: 'inserted',
      updated: 'updated',
      unchanged: 'unchanged',
      set_aside: 'setAside',
    } as const;
    for (const table of TABLES) {
      const c = summary.counts[table];
      assert.equal(total(final, exportedName(RUN.fetched), { table }), c.fetched, `${table} fetched`);
      for (const outcome of ITEM_OUTCOMES)
        assert.equal(
          total(final, exportedName(RUN.items), { table, outcome }),
          c[field[outcome]],
          `${table} ${outcome}`,
        );
    }
    const cs = summary.completeness ?? emptyCompleteness();
    for (const [def, labels, n] of [
      [C.voided, {}, cs.voided],
      [C.restored, {}, cs.restored],
      [C.departures, {}, cs.departed],
      [C.guardTrips, { list: 'sales' }, cs.voidGuardTrips],
      [C.guardTrips, { list: 'salespersons' }, cs.departureGuarded.length],
      [C.widened, {}, cs.widened.length],
      [C.firstSight, { kind: 'branch' }, cs.firstSightBranches.length],
      [C.firstSight, { kind: 'salesperson' }, cs.firstSightSalespersons],
    ] as const)
      assert.equal(
        total(final, exportedName(def), { ...runLabels, ...labels }),
        n,
        `${def.name} ${JSON.stringify(labels)}`,
      );
    assert.equal(total(final, C.voidAlertThreshold.name, runLabels), 100, 'VOID_ALERT_THRESHOLD');
    assert.ok(summary.counts.sales.fetched > 0 && summary.branchesSynced > 0, 'the run synced something');
    assert.ok(
      total(final, exportedName(RUN.items), { outcome: 'set_aside' }) > 0,
      'bad records were set aside',
    );
    // The parent was evicted from the cache and replayed (WORKER_MAX_CACHED_WORKFLOWS=2), and counted once.
    assert.ok(total(final, 'temporal_sticky_cache_total_forced_eviction_total') > 0);
    assert.ok(
      total(final, 'temporal_workflow_task_replay_latency_seconds_count', {
        workflow_type: 'salesSyncWorkflow',
      }) > 0,
    );
    assert.equal(total(final, `${RUN.duration.name}_count`), 1);
    const seconds = total(final, `${RUN.duration.name}_sum`);
    assert.ok(seconds > 0 && seconds < (Date.now() - runStarted) / 1000 + 5, `run duration ${seconds} s`);
    const lastSuccess = total(final, RUN.lastSuccess.name);
    if (succeeded)
      assert.ok(lastSuccess * 1000 >= runStarted && lastSuccess * 1000 <= Date.now(), `${lastSuccess}`);
    else assert.equal(lastSuccess, 0);
  });

  it('the request counters equal what the vendor saw: by path, by status, 429s, no answer, retries, latencies', () => {
    const seen = sim.counters();
    assert.ok(seen.throttled429 > 0, 'the vendor answered 429 (the test needs some)');
    assert.ok(
      seen.faultsInjected.error5xx > 0 && seen.faultsInjected.drop > 0,
      JSON.stringify(seen.faultsInjected),
    );
    assert.equal(total(final, requests), seen.total);
    for (const path of VENDOR_PATHS) {
      assert.equal(total(final, requests, { path }), seen.requests[path], path);
      assert.equal(
        total(final, `${VENDOR.duration.name}_count`, { path }),
        seen.requests[path],
        `${path} latencies`,
      );
    }
    for (const [status, n] of Object.entries(seen.byStatus))
      assert.equal(total(final, requests, { status }), n, `status ${status}`);
    assert.equal(total(final, requests, { status: '429' }), seen.throttled429);
    assert.equal(total(final, requests, { status: 'none' }), seen.faultsInjected.drop);
    // Each page is one activity: its first attempt is a request, any other attempt a retry.
    assert.equal(total(final, requests, { status: '200' }), summary.pages);
    assert.equal(total(final, exportedName(VENDOR.retries)), seen.total - summary.pages);
  });

  it('no metric carries an unbounded label: the label names and values are a fixed set, no id nor branch name', () => {
    const allowed = ALLOWED_LABELS;
    const dataset = sim.dataset;
    const forbidden = new Set<string>(dataset.branches.map((b) => b.branch_name));
    for (const b of dataset.branches) forbidden.add(String(b.id));
    for (const list of dataset.employeesByBranch.values()) for (const e of list) forbidden.add(String(e.id));
    for (const list of dataset.salesBySalesperson.values()) for (const s of list) forbidden.add(String(s.id));
    for (const s of final)
      for (const [k, v] of Object.entries(s.labels)) {
        assert.ok(allowed[k], `${s.name} has the label ${k}="${v}"`);
        assert.ok(allowed[k](v), `${s.name} has ${k}="${v}"`);
        // Bucket bounds and HTTP statuses are numbers the code sets; any other value may not be an id.
        if (k !== 'le' && k !== 'status')
          assert.ok(!forbidden.has(v), `${s.name} has ${k}="${v}", a branch name or an id`);
      }
  });

  it('the dashboard and the alert rules read only metrics the worker exports; the slow-run bound is a bucket', () => {
    const exported = new Set(final.map((s) => s.name));
    const dashboard = JSON.parse(
      readFileSync(join(ROOT, 'ops/grafana/dashboards/sales-sync.json'), 'utf8'),
    ) as {
      panels: {
        id: number;
        title: string;
        type: string;
        datasource?: { uid: string };
        targets?: { expr: string }[];
      }[];
      templating: { list: { name: string; type: string; query: string }[] };
    };
    const panels = dashboard.panels.filter((p) => p.type !== 'row');
    assert.ok(panels.length >= 10);
    // Every panel asks the dashboard's data source variable (no data source UID of some Grafana).
    assert.deepEqual(
      dashboard.templating.list.map((v) => [v.name, v.type, v.query]),
      [['datasource', 'datasource', 'prometheus']],
    );
    assert.equal(
      new Set(dashboard.panels.map((p) => p.id)).size,
      dashboard.panels.length,
      'unique panel ids',
    );
    for (const p of panels) assert.equal(p.datasource?.uid, '${datasource}', p.title);
    for (const p of panels) {
      assert.ok(p.targets?.length, `panel "${p.title}" has no query`);
      for (const t of p.targets ?? []) {
        const names = metricNames(t.expr);
        assert.ok(names.length > 0, `panel "${p.title}": ${t.expr}`);
        for (const n of names)
          assert.ok(exported.has(n), `panel "${p.title}" reads ${n}, which is not exported`);
      }
    }
    const rules = readFileSync(join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8');
    const exprs = [...rules.matchAll(/^(\s*)expr:\s*(?:\|\n((?:\1\s+.*\n)+)|(.+)\n)/gm)].map(
      (m) => m[2] ?? m[3] ?? '',
    );
    assert.equal(exprs.length, (rules.match(/- alert:/g) ?? []).length);
    for (const e of exprs)
      for (const n of metricNames(e))
        assert.ok(exported.has(n), `an alert reads ${n}, which is not exported:\n${e}`);
    for (const q of promqlBlockQueries(readFileSync(join(ROOT, 'README.md'), 'utf8')))
      for (const n of metricNames(q))
        assert.ok(exported.has(n), `the README's query reads ${n}, which is not exported`);
    const bounds = [...rules.matchAll(/le="([^"]+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(bounds, [SLOW_RUN_SECONDS]);
    assert.ok(
      final.some((s) => s.name === `${RUN.duration.name}_bucket` && Number(s.labels.le) === SLOW_RUN_SECONDS),
      'the slow-run bound is a bucket of the run duration histogram',
    );
  });
  it("a replay of the run (the CLI's replay --dry-run) asks the vendor nothing and counts no run", async () => {
    const firstRun = /^first run\s+(\S+)/m.exec(output)?.[1] ?? '';
    const replay = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const cli = spawn('npm', ['run', '-s', 'cli', '--', 'replay', '--run', firstRun, '--dry-run'], {
        cwd: ROOT,
        env: userEnv({ DATA_DIR: dataDir, PAYLOAD_ENCRYPTION: 'off' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let text = '';
      cli.stdout.on('data', (d: Buffer) => (text += d.toString()));
      cli.stderr.on('data', (d: Buffer) => (text += d.toString()));
      cli.once('error', reject);
      cli.once('exit', (code) => resolve({ code, text }));
    });
    assert.equal(replay.code, 0, replay.text);
    assert.match(replay.text, /dry run: nothing is written/);
    const after = await scrape(metricsUrl);
    for (const name of [
      requests,
      exportedName(RUN.runs),
      exportedName(RUN.items),
      `${RUN.duration.name}_count`,
    ])
      assert.equal(total(after, name), total(final, name), name);
  });
});
