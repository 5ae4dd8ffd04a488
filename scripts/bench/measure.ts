/**
 * The benchmark's measurements that are not a worker's own: the items the tables must hold
 * (from src/sim/expected.ts, hashed as the store does), the mutation of the "mutated" run,
 * the vendor's request rate, the machine, Temporal's workflow histories and DynamoDB's
 * item counts.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Client } from '@temporalio/client';
import { expectedRecords } from '../../src/sim/expected.js';
import type { Dataset } from '../../src/sim/index.js';
import { type DynamoClients, type TableNames, contentHash } from '../../src/store/index.js';
import { memTotalMb } from '../lib/proc.js';
import { temporalCliPath } from '../stack.js';

/** The items the tables must hold after a full sync: `table|key` -> content hash (as the store computes it). */
export function expectedItems(ds: Dataset, names: string[]): Map<string, string> {
  const items = new Map<string, string>();
  for (const e of expectedRecords(ds, names)) items.set(`${e.table}|${e.key}`, contentHash(e.record));
  return items;
}

/** Items per table of an expected-item map. */
export function countByTable(items: Map<string, string>): Record<string, number> {
  const out: Record<string, number> = { branches: 0, salespersons: 0, sales: 0 };
  for (const key of items.keys()) {
    const t = key.slice(0, key.indexOf('|'));
    out[t] = (out[t] ?? 0) + 1;
  }
  return out;
}

/** Keys that are new or whose content differs between two expected-item maps. */
export function changedItems(before: Map<string, string>, after: Map<string, string>): number {
  let n = 0;
  for (const [k, h] of after) if (before.get(k) !== h) n++;
  return n;
}

/** Vendor requests in each second of a run. */
export interface RunRate {
  perSecond: number[];
  /** Mean over the whole seconds between the first and the last 2 s. */
  steadyMean: number;
  /** Seconds (same span) with fewer than 90% of the quota's requests. */
  secondsBelow90: number;
  steadySeconds: number;
}

/** Rate statistics over the steady part of a run (without its first and last 2 s). */
export function steadyRate(perSecond: number[], quota: number): RunRate {
  const steady = perSecond.slice(2, -2);
  const sum = steady.reduce((a, b) => a + b, 0);
  return {
    perSecond,
    steadyMean: steady.length ? sum / steady.length : 0,
    secondsBelow90: steady.filter((x) => x < 0.9 * quota).length,
    steadySeconds: steady.length,
  };
}

/** The machine the benchmark runs on. */
export function machine() {
  // Off Linux: os.totalmem().
  const memMb = memTotalMb() ?? Math.round(totalmem() / 2 ** 20);
  const nproc = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || cpus().length;
  const temporal = spawnSync(temporalCliPath(), ['--version'], { encoding: 'utf8' }).stdout.trim();
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr.split('\n')[0]?.trim() ?? '';
  return {
    nproc,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memTotalMb: memMb,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    temporal,
    java,
  };
}

export interface HistoryStats {
  /** Executions started during the run (every continue-as-new run counts). */
  executions: number;
  byType: Record<string, number>;
  continuedAsNew: number;
  notCompleted: number;
  largest: { events: number; workflowId: string; type: string };
  /** Largest history per workflow type. */
  largestByType: Record<string, number>;
  /** Parent's history length per describe(). */
  parentEvents: number;
}

/** The workflows started in [fromIso, toIso] and their histories, once visibility has settled. */
export async function historyStats(client: Client, fromIso: string, toIso: string, parentId: string) {
  const query = `StartTime >= '${fromIso}' AND StartTime <= '${toIso}'`;
  // Visibility is eventually consistent: wait until nothing is running and the count is stable.
  let last = -1;
  for (let i = 0; i < 60; i++) {
    const total = (await client.workflow.count(query)).count;
    const running = (await client.workflow.count(`${query} AND ExecutionStatus = 'Running'`)).count;
    if (running === 0 && total === last) break;
    last = total;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const stats: HistoryStats = {
    executions: 0,
    byType: {},
    continuedAsNew: 0,
    notCompleted: 0,
    largest: { events: 0, workflowId: '', type: '' },
    largestByType: {},
    parentEvents: 0,
  };
  for await (const wf of client.workflow.list({ query })) {
    stats.executions++;
    stats.byType[wf.type] = (stats.byType[wf.type] ?? 0) + 1;
    if (wf.status.name === 'CONTINUED_AS_NEW') stats.continuedAsNew++;
    else if (wf.status.name !== 'COMPLETED') stats.notCompleted++;
    if (wf.historyLength > stats.largest.events)
      stats.largest = { events: wf.historyLength, workflowId: wf.workflowId, type: wf.type };
    stats.largestByType[wf.type] = Math.max(stats.largestByType[wf.type] ?? 0, wf.historyLength);
  }
  const parent = await client.workflow.getHandle(parentId).describe();
  stats.parentEvents = parent.historyLength;
  if (parent.historyLength > stats.largest.events)
    stats.largest = { events: parent.historyLength, workflowId: parentId, type: parent.type };
  return stats;
}

/** Items in each table (a COUNT scan). */
export async function countTableItems(
  clients: DynamoClients,
  names: TableNames,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [logical, physical] of Object.entries(names)) {
    let n = 0;
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await clients.raw.send(
        new ScanCommand({ TableName: physical, Select: 'COUNT', ExclusiveStartKey: start }),
      );
      n += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    out[logical] = n;
  }
  return out;
}

/** ~1% of the sales change: half new, half corrected; plus a few transfers and branch changes. */
export function mutationCounts(ds: Dataset) {
  let sales = 0;
  for (const list of ds.salesBySalesperson.values()) sales += list.length;
  const onePercent = Math.max(2, Math.round(sales * 0.01));
  return {
    newSales: Math.ceil(onePercent / 2),
    correctedSales: Math.floor(onePercent / 2),
    transfers: 2,
    branchChanges: 2,
    departures: 0,
  };
}

/**
 * The Temporal server's `action` counter for a namespace, by action type: what Temporal Cloud
 * bills (workflow starts, activity attempts, heartbeats, timers, signals, queries, search
 * attribute upserts, schedule actions...), counted by the server itself.
 */
export function serverActions(metricsUrl: string, namespace = 'default'): Promise<Record<string, number>> {
  return serverCounter(metricsUrl, 'action', 'action_type', [`namespace="${namespace}"`]);
}

/**
 * A counter of the server's Prometheus endpoint summed by one label (`by`), over the series
 * whose labels hold every string of `having`.
 */
export async function serverCounter(
  metricsUrl: string,
  metric: string,
  by: string,
  having: string[] = [],
): Promise<Record<string, number>> {
  const text = await (await fetch(metricsUrl)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    if (!having.every((h) => labels.includes(h))) continue;
    const key = new RegExp(`${by}="([^"]*)"`).exec(labels)?.[1] ?? 'unknown';
    out[key] = (out[key] ?? 0) + Number(line.slice(line.lastIndexOf('}') + 1).trim());
  }
  return out;
}

/** `after - before` per key of a counter (keys with no change left out). */
export function countersBetween(
  before: Record<string, number>,
  after: Record<string, number>,
): { total: number; byType: Record<string, number> } {
  const byType: Record<string, number> = {};
  let total = 0;
  for (const [type, n] of Object.entries(after)) {
    const d = n - (before[type] ?? 0);
    if (d > 0) {
      byType[type] = d;
      total += d;
    }
  }
  return { total, byType };
}
