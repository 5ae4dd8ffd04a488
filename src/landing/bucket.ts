/**
 * The landing bucket itself: the S3 client, listing, creating the bucket with its retention
 * rule, and the start-up check that it can be reached.
 */
import {
  CreateBucketCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadBucketCommand,
  type LifecycleRule,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutBucketLifecycleConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { LandingConfig } from '../config/landing.js';
import { ConfigError } from '../shared/errors.js';

/** The S3 client of the landing zone: path-style addressing when an S3-compatible endpoint is set. */
export function createS3Client(cfg: LandingConfig): S3Client {
  return new S3Client({
    region: cfg.region,
    ...(cfg.endpoint ? { endpoint: cfg.endpoint, forcePathStyle: true } : {}),
    ...(cfg.credentials ? { credentials: cfg.credentials } : {}),
    // Retries belong to the activity's retry policy; one quick SDK retry covers a dropped connection.
    maxAttempts: 2,
  });
}

/** Every object under `prefix` of a bucket (full keys), in key order, page after page. */
export async function listObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
  signal?: AbortSignal,
): Promise<{ key: string; size: number }[]> {
  const found: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const out: ListObjectsV2CommandOutput = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      { abortSignal: signal },
    );
    for (const o of out.Contents ?? []) if (o.Key) found.push({ key: o.Key, size: o.Size ?? 0 });
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/** ID of the lifecycle rule the project manages; other rules of the bucket are left as they are. */
const RETENTION_RULE_ID = 'vendor-sales-sync-landing-expiry';

/** What `ensureLandingBucket` did. */
export interface BucketReport {
  created: boolean;
  /** 'applied' (a lifecycle rule expires landed objects), or why objects are kept until deleted. */
  retention: 'applied' | `not supported by this object store (${string})`;
}

/**
 * Creates the bucket when missing and sets the retention rule (expire `raw/` objects after
 * `retentionDays`), keeping the bucket's other lifecycle rules. An object store without
 * lifecycle rules (versitygw's posix backend answers NotImplemented) keeps objects until they
 * are deleted; the report says so.
 */
export async function ensureLandingBucket(
  s3: S3Client,
  cfg: Pick<LandingConfig, 'bucket' | 'prefix' | 'retentionDays'>,
): Promise<BucketReport> {
  let created = false;
  try {
    await s3.send(new HeadBucketCommand({ Bucket: cfg.bucket }));
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== 404) throw err;
    await s3.send(new CreateBucketCommand({ Bucket: cfg.bucket }));
    created = true;
  }
  const rule: LifecycleRule = {
    ID: RETENTION_RULE_ID,
    Status: 'Enabled',
    Filter: { Prefix: `${cfg.prefix}raw/` },
    Expiration: { Days: cfg.retentionDays },
  };
  try {
    let rules: LifecycleRule[] = [];
    try {
      const current = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: cfg.bucket }));
      rules = (current.Rules ?? []).filter((r) => r.ID !== RETENTION_RULE_ID);
    } catch (err) {
      if ((err as Error).name !== 'NoSuchLifecycleConfiguration') throw err;
    }
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: cfg.bucket,
        LifecycleConfiguration: { Rules: [...rules, rule] },
      }),
    );
    return { created, retention: 'applied' };
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'NotImplemented' || name === 'NotImplementedError')
      return { created, retention: `not supported by this object store (${name})` };
    throw err;
  }
}

/** Fails fast, naming the bucket and what to check, when the landing bucket cannot be reached. */
export async function checkLandingBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    throw new ConfigError(
      `the landing bucket LANDING_BUCKET=${bucket} cannot be used (${status === 404 ? 'it does not exist' : `${(err as Error).name}${status ? `, HTTP ${status}` : ''}`}): create it, check S3_ENDPOINT and the credentials, or set LANDING=off.`,
    );
  }
}
