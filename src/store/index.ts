/**
 * The one module every activity writes through. It maps vendor records to items with
 * stable keys (the vendor's integer ids, as strings), decides what changed, and sets bad
 * records aside in the quarantine table.
 */
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { idDigits } from '../shared/exact-json.js';
import { exactStringify, nestingDepth } from '../shared/json-text.js';
import { truncateText, wellFormedText } from './storable.js';
import { type BranchRecord, type EmployeeRecord, type SaleRecord, idKey } from '../vendor-api/schemas.js';
import type { DynamoClients } from './client.js';
import type { SetAside } from '../vendor-api/validate.js';
import { type LogicalTable, type TableNames, keyNamesOf } from './tables.js';
import { FETCHED_AT, SYNCED_AT } from './guarded.js';
import { LEFT_AT, VOIDED_AT } from '../shared/completeness.js';
import {
  contentHash,
  HASH_ATTRIBUTE,
  type UpsertItem,
  type UpsertOptions,
  type UpsertResult,
  upsertIfChanged,
} from './upsert.js';

export { createDynamoClients, emptyStoreStats, type DynamoClients, type StoreStats } from './client.js';
export {
  ensureTables,
  keyNamesOf,
  tableNames,
  TABLE_KEYS,
  type TableNames,
  type LogicalTable,
} from './tables.js';
export {
  contentHash,
  stableStringify,
  HASH_ATTRIBUTE,
  type UpsertOptions,
  type UpsertResult,
  type Rejected,
} from './upsert.js';

/** Which run wrote an item: kept on the item for tracing, never part of its content hash. */
export interface WriteContext {
  workflowId: string;
  runId: string;
}

/** A record set aside (src/vendor-api/validate.ts), as the quarantine table stores it. */
export type { SetAside } from '../vendor-api/validate.js';

/** Longest raw fragment stored in the quarantine table (DynamoDB items are capped at 400 KB). */
const RAW_LIMIT = 16_000;

/** Attributes the pipeline writes on every item besides the keys. */
const METADATA_ATTRIBUTES = [
  HASH_ATTRIBUTE,
  SYNCED_AT,
  'synced_by',
  'synced_run',
  FETCHED_AT,
  VOIDED_AT,
  LEFT_AT,
] as const;

/**
 * Why a vendor record cannot be stored under its key as sent, or undefined: a field named like
 * one of the pipeline's own attributes. A key field that holds the same id is fine (the key
 * holds it); one that holds another id contradicts how the record was reached.
 */
function attributeClash(record: Record<string, unknown>, key: Record<string, string>): string | undefined {
  for (const name of METADATA_ATTRIBUTES) {
    if (Object.hasOwn(record, name))
      return `the field ${name} has the name of an attribute the pipeline writes on every item`;
  }
  for (const [name, value] of Object.entries(key)) {
    if (!Object.hasOwn(record, name)) continue;
    const v = record[name];
    const same = typeof v === 'string' ? v === value : idDigits(v) === value;
    if (!same)
      return `the field ${name}=${exactStringify(v).slice(0, 40)} contradicts the key ${name}=${value} the record was reached by`;
  }
  return undefined;
}

/** A vendor record's text for the quarantine table: every number as sent, bounded in size. */
function rawText(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (nestingDepth(raw, 1000) > 1000) return '(not kept: nested deeper than 1,000 levels)';
  return exactStringify(raw);
}

/** DynamoDB-backed store of the synced tables. */
export class Store {
  constructor(
    readonly clients: DynamoClients,
    readonly names: TableNames,
  ) {}

  /**
   * Builds each record's item, sets aside the ones that clash with the pipeline's attributes,
   * and upserts the rest; every record not stored comes back in `rejected` with the reason.
   */
  private async upsert<R extends Record<string, unknown>>(
    table: LogicalTable,
    records: R[],
    build: (r: R) => UpsertItem,
    options: UpsertOptions,
  ): Promise<UpsertResult> {
    const items: UpsertItem[] = [];
    const rejected: UpsertResult['rejected'] = [];
    // When the vendor sent the content: a replay compares it with the stored item's (upsert.ts).
    const fetched = options.fetchedAt ? { [FETCHED_AT]: options.fetchedAt } : {};
    for (const r of records) {
      const built = build(r);
      const item = { ...built, item: { ...built.item, ...fetched } };
      const clash = attributeClash(r, item.key);
      if (clash) rejected.push({ source: r, reason: clash });
      else items.push({ ...item, source: r });
    }
    if (items.length === 0)
      return { inserted: 0, updated: 0, unchanged: 0, newerKept: 0, restored: 0, rejected };
    const result = await upsertIfChanged(this.clients, this.names[table], keyNamesOf(table), items, options);
    result.rejected.unshift(...rejected);
    return result;
  }

  /** Upserts branch metadata; key `branch_id`. */
  async upsertBranches(
    records: BranchRecord[],
    ctx: WriteContext,
    options: UpsertOptions = {},
  ): Promise<UpsertResult> {
    return this.upsert(
      'branches',
      records,
      (r) => ({ key: { branch_id: idKey(r.id) }, hash: contentHash(r), item: { ...r, ...provenance(ctx) } }),
      options,
    );
  }

  /** Upserts salespersons of one branch; key (`employee_id`, `branch_id`): a transfer adds an item. */
  async upsertSalespersons(
    records: EmployeeRecord[],
    branchId: string,
    ctx: WriteContext,
    options: UpsertOptions = {},
  ): Promise<UpsertResult> {
    return this.upsert(
      'salespersons',
      records,
      (r) => ({
        key: { employee_id: idKey(r.id), branch_id: branchId },
        hash: contentHash(r),
        item: { ...r, ...provenance(ctx) },
      }),
      options,
    );
  }

  /**
   * Upserts sales of one salesperson; key (`sale_id`, `employee_id`). `branch_id` is the
   * branch the salesperson was reached through, a plain attribute outside the content
   * hash: a salesperson listed under two branches (a transfer in progress) must not make
   * the sale flip between them and be rewritten every run. It is set when the sale is
   * first stored and whenever the vendor's record changes. A sale that carries its own
   * `branch_id` keeps the vendor's value.
   */
  async upsertSales(
    records: SaleRecord[],
    employeeId: string,
    branchId: string,
    ctx: WriteContext,
    options: UpsertOptions = {},
  ): Promise<UpsertResult> {
    return this.upsert(
      'sales',
      records,
      (r) => ({
        key: { sale_id: idKey(r.id), employee_id: employeeId },
        hash: contentHash(r),
        item: { branch_id: branchId, ...r, ...provenance(ctx) },
      }),
      options,
    );
  }

  /**
   * Puts bad records in the quarantine table. The key is a hash of kind, reason and raw
   * fragment, so the same bad record seen again by a later run is not stored twice.
   * Returns how many entries were new.
   */
  async quarantine(entries: SetAside[], ctx: WriteContext, options: UpsertOptions = {}): Promise<number> {
    const byKey = new Map<string, UpsertItem>();
    for (const e of entries) {
      const stored = truncateText(rawText(e.raw), RAW_LIMIT);
      // A reason can quote a vendor's field name, which may hold half a surrogate pair.
      const content = { kind: e.kind, reason: wellFormedText(e.reason), raw: stored };
      const hash = contentHash(content);
      byKey.set(hash, {
        key: { quarantine_id: `${e.kind}#${hash.slice(0, 32)}` },
        hash,
        item: {
          ...content,
          request: wellFormedText(e.request),
          ...(e.landed ? { landed_object: e.landed } : {}),
          ...provenance(ctx),
        },
      });
    }
    const items = [...byKey.values()];
    if (items.length === 0) return 0;
    const r = await upsertIfChanged(
      this.clients,
      this.names.quarantine,
      keyNamesOf('quarantine'),
      items,
      // An entry is a record seen, not content that a later answer supersedes.
      { ...options, keepNewer: false },
    );
    // Never lose a set-aside record quietly: the attempt fails and is retried instead.
    const first = r.rejected[0];
    if (first) throw new Error(`the quarantine table refused ${r.rejected.length} entries: ${first.reason}`);
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

/** Which run wrote an item, and when: kept outside the content hash, so a record seen again by another run is not rewritten for it. */
function provenance(ctx: WriteContext): Record<string, string> {
  return { [SYNCED_AT]: new Date().toISOString(), synced_by: ctx.workflowId, synced_run: ctx.runId };
}
