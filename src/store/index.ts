/**
 * The one module every activity writes through. It maps vendor records to items with
 * stable keys (the vendor's integer ids, as strings), decides what changed, and sets bad
 * records aside in the quarantine table. Future sinks (raw landing copy, change feed)
 * hook in here.
 */
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import type { BranchRecord, EmployeeRecord, SaleRecord } from '../vendor/schemas.js';
import type { DynamoClients } from './client.js';
import { type LogicalTable, TABLE_KEYS, type TableNames } from './tables.js';
import { contentHash, type UpsertItem, type UpsertResult, upsertIfChanged } from './upsert.js';

export { createDynamoClients, emptyStoreStats, type DynamoClients, type StoreStats } from './client.js';
export { ensureTables, tableNames, TABLE_KEYS, type TableNames, type LogicalTable } from './tables.js';
export { contentHash, stableStringify, HASH_ATTRIBUTE, type UpsertResult } from './upsert.js';

/** Which run wrote an item: kept on the item for tracing, never part of its content hash. */
export interface WriteContext {
  workflowId: string;
  runId: string;
}

/** A record set aside: why, the raw fragment, and the request it came from. */
export interface SetAside {
  kind: 'branch' | 'employee' | 'sale' | 'body';
  reason: string;
  /** The record or body as received (JSON value, or text for a body that is not JSON). */
  raw: unknown;
  /** Path and query of the vendor request (no secret). */
  request: string;
}

/** Longest raw fragment stored in the quarantine table (DynamoDB items are capped at 400 KB). */
const RAW_LIMIT = 16_000;

/** DynamoDB-backed store of the synced tables. */
export class Store {
  constructor(
    readonly clients: DynamoClients,
    readonly names: TableNames,
  ) {}

  private keyNames(table: LogicalTable): string[] {
    const k: { pk: string; sk?: string } = TABLE_KEYS[table];
    return k.sk ? [k.pk, k.sk] : [k.pk];
  }

  private async upsert(table: LogicalTable, items: UpsertItem[]): Promise<UpsertResult> {
    if (items.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
    return upsertIfChanged(this.clients, this.names[table], this.keyNames(table), items);
  }

  /** Upserts branch metadata; key `branch_id`. */
  async upsertBranches(records: BranchRecord[], ctx: WriteContext): Promise<UpsertResult> {
    return this.upsert(
      'branches',
      records.map((r) => ({
        key: { branch_id: String(r.id) },
        hash: contentHash(r),
        item: { ...r, ...provenance(ctx) },
      })),
    );
  }

  /** Upserts salespersons of one branch; key (`employee_id`, `branch_id`): a transfer adds an item. */
  async upsertSalespersons(
    records: EmployeeRecord[],
    branchId: number,
    ctx: WriteContext,
  ): Promise<UpsertResult> {
    return this.upsert(
      'salespersons',
      records.map((r) => ({
        key: { employee_id: String(r.id), branch_id: String(branchId) },
        hash: contentHash(r),
        item: { ...r, ...provenance(ctx) },
      })),
    );
  }

  /**
   * Upserts sales of one salesperson; key (`sale_id`, `employee_id`). `branch_id` is the
   * branch the salesperson was reached through, a plain attribute outside the content
   * hash: a salesperson listed under two branches (a transfer in progress) must not make
   * the sale flip between them and be rewritten every run. It is set when the sale is
   * first stored and whenever the vendor's record changes.
   */
  async upsertSales(
    records: SaleRecord[],
    employeeId: number,
    branchId: number,
    ctx: WriteContext,
  ): Promise<UpsertResult> {
    return this.upsert(
      'sales',
      records.map((r) => ({
        key: { sale_id: String(r.id), employee_id: String(employeeId) },
        hash: contentHash(r),
        item: { ...r, branch_id: String(branchId), ...provenance(ctx) },
      })),
    );
  }

  /**
   * Puts bad records in the quarantine table. The key is a hash of kind, reason and raw
   * fragment, so the same bad record seen again by a later run is not stored twice.
   * Returns how many entries were new.
   */
  async quarantine(entries: SetAside[], ctx: WriteContext): Promise<number> {
    const byKey = new Map<string, UpsertItem>();
    for (const e of entries) {
      const raw = typeof e.raw === 'string' ? e.raw : JSON.stringify(e.raw);
      const stored = raw.length > RAW_LIMIT ? `${raw.slice(0, RAW_LIMIT)}…(${raw.length} chars)` : raw;
      const content = { kind: e.kind, reason: e.reason, raw: stored };
      const hash = contentHash(content);
      byKey.set(hash, {
        key: { quarantine_id: `${e.kind}#${hash.slice(0, 32)}` },
        hash,
        item: { ...content, request: e.request, ...provenance(ctx) },
      });
    }
    const r = await this.upsert('quarantine', [...byKey.values()]);
    return r.inserted;
  }

  /** Every item of a table (tests, the benchmark, operators' checks). */
  async scanAll(table: LogicalTable): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out: ScanCommandOutput = await this.clients.doc.send(
        new ScanCommand({ TableName: this.names[table], ExclusiveStartKey: start }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

function provenance(ctx: WriteContext): Record<string, string> {
  return { synced_at: new Date().toISOString(), synced_by: ctx.workflowId, synced_run: ctx.runId };
}
