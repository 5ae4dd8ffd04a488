/**
 * The DynamoDB clients, built once per process. A middleware counts every request by
 * kind, so tests and the benchmark can prove that an unchanged run costs no write.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoConfig } from '../config/aws.js';
import { numberOf } from '../shared/exact-json.js';
import { isLoopbackUrl } from '../shared/loopback.js';

/** Requests this process sent to DynamoDB, by command, and items it wrote. */
export interface StoreStats {
  requests: Record<string, number>;
  writeRequests: number;
  readRequests: number;
  itemsWritten: number;
}

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
const READ_COMMANDS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand']);

/** Empty stats. */
export function emptyStoreStats(): StoreStats {
  return { requests: {}, writeRequests: 0, readRequests: 0, itemsWritten: 0 };
}

/** The raw client (table admin) and the document client (items), sharing one connection pool. */
export interface DynamoClients {
  raw: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  stats: StoreStats;
}

/**
 * Region, endpoint and credentials of every DynamoDB-family client (tables, streams). Endpoint
 * and region come from the usual AWS configuration (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB,
 * profiles, instance roles) unless DYNAMODB_ENDPOINT is set. DynamoDB Local accepts any
 * credentials, so local runs get dummy ones when none are configured.
 */
export function dynamoEndpoint(cfg: DynamoConfig): {
  region: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
} {
  const local = cfg.endpoint !== undefined && isLoopbackUrl(cfg.endpoint);
  return {
    region: cfg.region,
    ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
    ...(local && !cfg.hasCredentials
      ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  };
}

/** The clients of `cfg`, counting every request they send. */
export function createDynamoClients(cfg: DynamoConfig): DynamoClients {
  const raw = new DynamoDBClient({ ...dynamoEndpoint(cfg), maxAttempts: 5 });
  const stats = emptyStoreStats();
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      stats.requests[name] = (stats.requests[name] ?? 0) + 1;
      if (WRITE_COMMANDS.has(name)) stats.writeRequests++;
      if (READ_COMMANDS.has(name)) stats.readRequests++;
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const doc = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    // Numbers come back as the vendor's JSON did: a double when it holds the value exactly,
    // else an ExactNumber with every digit (a plain read would round 12345678901234567890).
    unmarshallOptions: { wrapNumbers: numberOf },
  });
  return { raw, doc, stats };
}
