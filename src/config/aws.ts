/** AWS: the region every AWS client uses, and DynamoDB's endpoint and table names. */
import { type Env, str, url } from './env.js';

/** DynamoDB: the endpoint and region follow the usual AWS configuration unless set here. */
export interface DynamoConfig {
  endpoint?: string;
  /** AWS credentials are configured (AWS_ACCESS_KEY_ID or AWS_PROFILE); else DynamoDB Local gets dummy ones. */
  hasCredentials?: boolean;
  region: string;
  tablePrefix: string;
  tableSuffix: string;
}

/** AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1: the region of DynamoDB and the landing bucket alike. */
export function awsRegion(e: Env): string {
  return str(e, 'AWS_REGION', e.AWS_DEFAULT_REGION?.trim() || 'us-east-1');
}

/** DynamoDB settings alone. */
export function loadDynamoConfig(e: Env = process.env): DynamoConfig {
  return {
    endpoint: e.DYNAMODB_ENDPOINT?.trim() ? url(e, 'DYNAMODB_ENDPOINT') : undefined,
    region: awsRegion(e),
    hasCredentials: Boolean(e.AWS_ACCESS_KEY_ID?.trim() || e.AWS_PROFILE?.trim()),
    tablePrefix: e.TABLE_PREFIX ?? 'sales-sync-',
    tableSuffix: e.TABLE_SUFFIX ?? '',
  };
}
