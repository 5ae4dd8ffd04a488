/**
 * `npm run cli -- status`: per branch, what the DynamoDB table `sync_state` says of its
 * completeness (docs/operations.md, "Sweeps, watermarks and voids"): the watermark and how old it
 * is, the last sweep, and the last run's voids, departures and widened window. It reads DynamoDB
 * only (no Temporal), so it answers while the workers or the server are down.
 */
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { loadDynamoConfig } from '../config/aws.js';
import { ConfigError } from '../shared/errors.js';
import { createDynamoClients, tableNames } from '../store/index.js';
import { type BranchState, StateStore } from '../store/state.js';
import type { Command } from './options.js';

/** How long ago `iso` was, in the largest whole unit (`5 min`, `3 h`, `2 d`), from `now`. */
export function age(iso: string, now: Date): string {
  const s = Math.round((now.getTime() - Date.parse(iso)) / 1000);
  if (s < 0) return 'in the future';
  if (s < 120) return `${s} s ago`;
  if (s < 2 * 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 2 * 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

/** The lines `status` prints for `branches` (in the store's order: by name). */
export function statusLines(branches: BranchState[], now: Date): string[] {
  if (branches.length === 0)
    return ['no branch has state yet: a sync run records it (npm start, or npm run cli -- run).'];
  const lines: string[] = [];
  for (const b of branches) {
    lines.push(`${b.branchName ?? '(name not recorded)'} (branch ${b.branchId})`);
    lines.push(
      `  watermark   ${b.watermark ? `${b.watermark} (${age(b.watermark, now)})` : 'none (its next run reads its whole history)'}`,
    );
    lines.push(
      `  last sweep  ${b.lastSweepAt ? `${b.lastSweepKind ?? 'sweep'} at ${b.lastSweepAt} (${age(b.lastSweepAt, now)})` : 'none yet'}`,
    );
    const r = b.lastRun;
    lines.push(
      r
        ? `  last run    ${r.workflowId} at ${r.at} (${age(r.at, now)}): ${r.voided} sales voided, ${r.departed} salespersons left${r.widenedFrom ? `, window widened from ${r.widenedFrom}` : ''}`
        : '  last run    none recorded',
    );
  }
  return lines;
}

/** Every branch's state; a clear error when the table is not there yet. */
async function readBranches(): Promise<BranchState[]> {
  const cfg = loadDynamoConfig();
  const clients = createDynamoClients(cfg);
  const table = tableNames(cfg.tablePrefix, cfg.tableSuffix).sync_state;
  try {
    return await new StateStore(clients, table).branches();
  } catch (err) {
    if (err instanceof ResourceNotFoundException || (err as Error).name === 'ResourceNotFoundException')
      throw new ConfigError(
        `the table ${table} does not exist yet: run a sync first (npm start, or npm run cli -- run), or create the tables with npm run cli -- tables create (check TABLE_PREFIX and TABLE_SUFFIX).`,
      );
    throw err;
  } finally {
    clients.raw.destroy();
  }
}

/** The `status` command. */
export const statusCommand: Command = {
  usage: 'status [--json]',
  help: "Shows, per branch, the watermark (and its age), the last sweep, and the last complete run's voids, departures and widened window, from the DynamoDB table sync_state. Exit code 2 when the table does not exist.",
  options: { json: { type: 'boolean', help: 'print the branches as JSON (for scripts)' } },
  async run(v) {
    const branches = await readBranches();
    if (v.json) console.log(JSON.stringify({ at: new Date().toISOString(), branches }, null, 2));
    else for (const line of statusLines(branches, new Date())) console.log(line);
    return 0;
  },
};
