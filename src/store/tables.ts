/**
 * The DynamoDB tables (the contract's table design) and their creation. Names carry a
 * configurable prefix and suffix (`branches-prod`), so several environments share one account.
 */
import {
  CreateTableCommand,
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
} as const satisfies Record<string, { pk: string; sk?: string }>;

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

function definition(table: LogicalTable, name: string): CreateTableCommandInput {
  const [pk, sk] = keyNamesOf(table) as [string, string?];
  return {
    TableName: name,
    // On-demand: the sync writes in bursts once an hour, then nothing; provisioned
    // capacity would either throttle the burst or sit idle.
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: pk, AttributeType: 'S' },
      ...(sk ? [{ AttributeName: sk, AttributeType: 'S' as const }] : []),
    ],
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

/** Creates every missing table and waits until all are active. Returns the names it created. */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const created: string[] = [];
  for (const table of LOGICAL_TABLES) {
    const name = names[table];
    try {
      await client.send(new DescribeTableCommand({ TableName: name }));
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
