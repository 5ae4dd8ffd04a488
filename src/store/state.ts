/**
 * The sync's own state, in DynamoDB (table `sync_state`): per branch the watermark (the end of
 * its last complete window), its last sweep and what its last run did; per salesperson whether
 * its whole history was read. Kept in DynamoDB, not in Temporal, so it outlives the workflow
 * retention period and a move to another namespace or cluster.
 *
 * Its own DynamoDB clients (their own request counts): the bookkeeping costs one read and one
 * write per branch per run, which the benchmark reports apart from the synced tables' writes.
 */
import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GET_BATCH, batchGet } from './batch.js';
import type { DynamoClients } from './client.js';

/** What the store keeps of one branch. */
export interface BranchState {
  branchId: string;
  branchName: string | null;
  /** The end of the branch's last complete window (ISO); null: never synced completely. */
  watermark: string | null;
  /** The window end of the last complete sweep (ISO). */
  lastSweepAt: string | null;
  lastSweepKind: 'lookback' | 'full' | null;
  /** What the last complete run did to the branch. */
  lastRun: { workflowId: string; at: string; voided: number; departed: number; widenedFrom?: string } | null;
  updatedAt: string | null;
}

/** A branch's move forward after a complete window. */
export interface BranchAdvance {
  branchId: string;
  branchName: string;
  watermark: string;
  sweep?: { kind: 'lookback' | 'full'; at: string };
  lastRun: { workflowId: string; at: string; voided: number; departed: number; widenedFrom?: string };
}

const branchKey = (branchId: string) => ({ state_id: `branch#${branchId}` });
const salespersonKey = (employeeId: string) => ({ state_id: `salesperson#${employeeId}` });

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));

/** A stored branch item as BranchState. */
function branchStateOf(item: Record<string, unknown>): BranchState {
  const run = item.last_run as Record<string, unknown> | undefined;
  const kind = str(item.last_sweep_kind);
  return {
    branchId: String(item.branch_id),
    branchName: str(item.branch_name),
    watermark: str(item.watermark),
    lastSweepAt: str(item.last_sweep_at),
    lastSweepKind: kind === 'lookback' || kind === 'full' ? kind : null,
    lastRun: run
      ? {
          workflowId: String(run.workflow_id),
          at: String(run.at),
          voided: num(run.voided),
          departed: num(run.departed),
          ...(typeof run.widened_from === 'string' ? { widenedFrom: run.widened_from } : {}),
        }
      : null,
    updatedAt: str(item.updated_at),
  };
}

/** Reads and moves the sync's state. */
export class StateStore {
  constructor(
    readonly clients: DynamoClients,
    readonly table: string,
  ) {}

  /** The state of one branch, or null when the store never saw it. */
  async branch(branchId: string): Promise<BranchState | null> {
    const out = await this.clients.doc.send(
      new GetCommand({ TableName: this.table, Key: branchKey(branchId), ConsistentRead: true }),
    );
    return out.Item ? branchStateOf(out.Item) : null;
  }

  /** Every branch's state (for `status`), by branch name. */
  async branches(): Promise<BranchState[]> {
    const found: BranchState[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.clients.doc.send(
        new ScanCommand({
          TableName: this.table,
          FilterExpression: 'begins_with(state_id, :b)',
          ExpressionAttributeValues: { ':b': 'branch#' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) found.push(branchStateOf(item));
      start = out.LastEvaluatedKey;
    } while (start);
    return found.sort((a, b) => (a.branchName ?? a.branchId).localeCompare(b.branchName ?? b.branchId));
  }

  /**
   * Moves the branch's watermark to `a.watermark` unless it already is later (a backfill of an
   * old hour, or a late replica of a run, never moves it back), and records the run and sweep.
   * Returns the watermark stored afterwards.
   */
  async advanceBranch(a: BranchAdvance): Promise<string> {
    const now = new Date().toISOString();
    const run = {
      workflow_id: a.lastRun.workflowId,
      at: a.lastRun.at,
      voided: a.lastRun.voided,
      departed: a.lastRun.departed,
      ...(a.lastRun.widenedFrom ? { widened_from: a.lastRun.widenedFrom } : {}),
    };
    const sets = ['branch_id = :id', 'branch_name = :name', 'last_run = :run', 'updated_at = :now'];
    const values: Record<string, unknown> = {
      ':id': a.branchId,
      ':name': a.branchName,
      ':run': run,
      ':now': now,
    };
    if (a.sweep) {
      sets.push('last_sweep_at = :sweepAt', 'last_sweep_kind = :sweepKind');
      values[':sweepAt'] = a.sweep.at;
      values[':sweepKind'] = a.sweep.kind;
    }
    try {
      await this.clients.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: branchKey(a.branchId),
          UpdateExpression: `SET ${[...sets, 'watermark = :w'].join(', ')}`,
          ConditionExpression: 'attribute_not_exists(watermark) OR watermark < :w',
          ExpressionAttributeValues: { ...values, ':w': a.watermark },
        }),
      );
      return a.watermark;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    // The stored watermark is later: keep it, record the rest (a sweep of an older window still
    // counts as the branch's last sweep when it is the latest one).
    const sweepOnly = a.sweep
      ? { cond: 'attribute_not_exists(last_sweep_at) OR last_sweep_at < :sweepAt', sets }
      : { cond: undefined, sets: sets.filter((s) => !s.startsWith('last_sweep')) };
    try {
      await this.clients.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: branchKey(a.branchId),
          UpdateExpression: `SET ${sweepOnly.sets.join(', ')}`,
          ...(sweepOnly.cond ? { ConditionExpression: sweepOnly.cond } : {}),
          ExpressionAttributeValues: values,
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    return (await this.branch(a.branchId))?.watermark ?? a.watermark;
  }

  /** Those of `employeeIds` whose whole history was read once (consistent reads). */
  async loadedSalespersons(employeeIds: readonly string[], signal?: AbortSignal): Promise<Set<string>> {
    const loaded = new Set<string>();
    const ids = [...new Set(employeeIds)];
    for (let i = 0; i < ids.length; i += GET_BATCH) {
      const items = await batchGet(
        this.clients,
        this.table,
        ids.slice(i, i + GET_BATCH).map(salespersonKey),
        { ProjectionExpression: 'employee_id, history_loaded_at', ConsistentRead: true },
        signal,
      );
      for (const item of items) if (item.history_loaded_at) loaded.add(String(item.employee_id));
    }
    return loaded;
  }

  /** Records that the whole history of each of `employeeIds` was read (the first time only). */
  async markHistoryLoaded(employeeIds: readonly string[], at: string, workflowId: string): Promise<void> {
    for (const id of new Set(employeeIds)) {
      try {
        await this.clients.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: salespersonKey(id),
            UpdateExpression: 'SET employee_id = :id, history_loaded_at = :at, loaded_by = :by',
            ConditionExpression: 'attribute_not_exists(history_loaded_at)',
            ExpressionAttributeValues: { ':id': id, ':at': at, ':by': workflowId },
          }),
        );
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    }
  }
}
