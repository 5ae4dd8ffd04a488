/**
 * The DynamoDB tables (the contract's table design) and their creation. Names carry a
 * configurable prefix and suffix (`branches-prod`), so several environments share one account.
 */
import {
  type AttributeDefinition,
  CreateTableCommand,
  type GlobalSecondaryIndex,
  type TableDescription,
  UpdateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { SYNCED_TABLES } from '../shared/tables.js';

/** Logical table -> key attributes (all strings). */
export const TABLE_KEYS = {
  branches: { pk: 'branch_id' },
  salespersons: { pk: 'employee_id', sk: 'branch_id' },
  sales: { pk: 'sale_id', sk: 'employee_id' },
  quarantine: { pk: 'quarantine_id' },
  // Watermarks per branch and first loads per salesperson (src/store/state.ts): the sync's own
  // bookkeeping, kept in DynamoDB so it outlives Temporal's retention and a new namespace.
  sync_state: { pk: 'state_id' },
} as const satisfies Record<string, { pk: string; sk?: string }>;

/**
 * Secondary indexes: a void check reads one salesperson's stored sales in a window, a departure
 * check one branch's stored memberships. Both read only keys and the attributes that decide
 * (already voided or left; when written), so the index stays small.
 */
export const TABLE_INDEXES = {
  sales: {
    name: 'employee_time',
    pk: 'employee_id',
    sk: 'transaction_timestamp',
    include: ['voided_at', 'fetched_at', 'synced_at'],
  },
  salespersons: {
    name: 'branch_members',
    pk: 'branch_id',
    sk: 'employee_id',
    include: ['left_at', 'fetched_at', 'synced_at'],
  },
} as const;

/** The logical tables. */
export type LogicalTable = keyof typeof TABLE_KEYS;

/** Physical table names for one environment. */
export type TableNames = Record<LogicalTable, string>;

/** Every logical table, in TABLE_KEYS order. */
const LOGICAL_TABLES = Object.keys(TABLE_KEYS) as LogicalTable[];

/** The key attribute names of a table: partition key, then sort key when it has one. */
export function keyNamesOf(table: LogicalTable): string[] {
  const k: { pk: string; sk?: string } = TABLE_KEYS[table];
  return k.sk ? [k.pk, k.sk] : [k.pk];
}

/** Builds physical names: prefix + logical name + suffix. */
export function tableNames(prefix: string, suffix: string): TableNames {
  return Object.fromEntries(LOGICAL_TABLES.map((t) => [t, `${prefix}${t}${suffix}`])) as TableNames;
}

/** The index of a table, as CreateTable and UpdateTable take it; undefined for a table without one. */
function indexOf(table: LogicalTable): GlobalSecondaryIndex | undefined {
  const ix = (
    TABLE_INDEXES as Partial<Record<LogicalTable, (typeof TABLE_INDEXES)[keyof typeof TABLE_INDEXES]>>
  )[table];
  if (!ix) return undefined;
  return {
    IndexName: ix.name,
    KeySchema: [
      { AttributeName: ix.pk, KeyType: 'HASH' },
      { AttributeName: ix.sk, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...ix.include] },
  };
}

/** Every key attribute of a table and its index (all strings). */
function attributeDefinitions(table: LogicalTable): AttributeDefinition[] {
  const names = new Set(keyNamesOf(table));
  const ix = indexOf(table);
  for (const k of ix?.KeySchema ?? []) if (k.AttributeName) names.add(k.AttributeName);
  return [...names].map((AttributeName) => ({ AttributeName, AttributeType: 'S' }));
}

function definition(table: LogicalTable, name: string): CreateTableCommandInput {
  const [pk, sk] = keyNamesOf(table) as [string, string?];
  const index = indexOf(table);
  return {
    TableName: name,
    // On-demand: the sync writes in bursts once an hour, then nothing; provisioned
    // capacity would either throttle the burst or sit idle.
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributeDefinitions(table),
    ...(index ? { GlobalSecondaryIndexes: [index] } : {}),
    KeySchema: [
      { AttributeName: pk, KeyType: 'HASH' },
      ...(sk ? [{ AttributeName: sk, KeyType: 'RANGE' as const }] : []),
    ],
    // The change feed reads every insert and update of the synced tables (docs/change-feed.md).
    ...((SYNCED_TABLES as readonly string[]).includes(table)
      ? { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const } }
      : {}),
  };
}

/**
 * Adds the table's index when the table exists without it (a table created before the index
 * was part of the design) and waits until it is active. Returns the index name when it added it.
 */
async function ensureIndex(
  client: DynamoDBClient,
  table: LogicalTable,
  name: string,
  existing: TableDescription | undefined,
): Promise<string | undefined> {
  const index = indexOf(table);
  if (!index?.IndexName) return undefined;
  const found = existing?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.IndexName);
  if (!found) {
    try {
      await client.send(
        new UpdateTableCommand({
          TableName: name,
          AttributeDefinitions: attributeDefinitions(table),
          GlobalSecondaryIndexUpdates: [{ Create: index }],
        }),
      );
    } catch (err) {
      // Another process is adding it at the same moment: wait for it like for our own.
      if (!(err instanceof ResourceInUseException) && !/already exists/i.test((err as Error).message))
        throw err;
    }
  }
  // Backfilling an index on a large table takes minutes on AWS; a query before it is active fails.
  const deadline = Date.now() + INDEX_WAIT_MS;
  for (;;) {
    const d = await client.send(new DescribeTableCommand({ TableName: name }));
    const status = d.Table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === index.IndexName)?.IndexStatus;
    if (status === 'ACTIVE') return found ? undefined : `${name}.${index.IndexName}`;
    if (Date.now() > deadline)
      throw new Error(
        `The index ${index.IndexName} of ${name} is not active after ${INDEX_WAIT_MS / 60_000} minutes (status ${String(status)}); run \`npm run cli -- tables create\` again later.`,
      );
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

/** How long ensureTables waits for an index being built on an existing table. */
const INDEX_WAIT_MS = 30 * 60_000;

/**
 * Creates every missing table, adds missing indexes to existing ones, and waits until all are
 * active. Returns the names it created (tables, and indexes as `table.index`).
 */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const created: string[] = [];
  for (const table of LOGICAL_TABLES) {
    const name = names[table];
    try {
      const d = await client.send(new DescribeTableCommand({ TableName: name }));
      const added = await ensureIndex(client, table, name, d.Table);
      if (added) created.push(added);
      continue;
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    try {
      await client.send(new CreateTableCommand(definition(table, name)));
      created.push(name);
    } catch (err) {
      // Another process created it between our describe and create: fine.
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    await waitUntilTableExists({ client, maxWaitTime: 120 }, { TableName: name });
  }
  return created;
}
