/**
 * The DynamoDB tables (the contract's table design) and their creation. Names carry a
 * configurable prefix and suffix, as the original pipeline's `branch-${Environment}`.
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

/** Builds physical names: prefix + logical name + suffix. */
export function tableNames(prefix: string, suffix: string): TableNames {
  const name = (t: LogicalTable) => `${prefix}${t}${suffix}`;
  return {
    branches: name('branches'),
    salespersons: name('salespersons'),
    sales: name('sales'),
    quarantine: name('quarantine'),
  };
}

function definition(table: LogicalTable, name: string): CreateTableCommandInput {
  const keys: { pk: string; sk?: string } = TABLE_KEYS[table];
  return {
    TableName: name,
    // On-demand: the sync writes in bursts once an hour, then nothing; provisioned
    // capacity would either throttle the burst or sit idle.
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: keys.pk, AttributeType: 'S' },
      ...(keys.sk ? [{ AttributeName: keys.sk, AttributeType: 'S' as const }] : []),
    ],
    KeySchema: [
      { AttributeName: keys.pk, KeyType: 'HASH' },
      ...(keys.sk ? [{ AttributeName: keys.sk, KeyType: 'RANGE' as const }] : []),
    ],
    // The change feed reads every insert and update of the synced tables (docs/change-feed.md).
    ...(table === 'quarantine'
      ? {}
      : { StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const } }),
  };
}

/** Creates every missing table and waits until all are active. Returns the names it created. */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<string[]> {
  const created: string[] = [];
  for (const table of Object.keys(TABLE_KEYS) as LogicalTable[]) {
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
