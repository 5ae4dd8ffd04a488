/** The raw landing zone's settings: LANDING, LANDING_BUCKET, LANDING_PREFIX, S3_*, LANDING_RETENTION_DAYS. */
import { ConfigError } from '../shared/errors.js';
import { awsRegion } from './aws.js';
import { type Env, int, url } from './env.js';

/** The raw landing zone (src/landing/): where every vendor answer is kept before it is used. */
export interface LandingConfig {
  /** LANDING_BUCKET. */
  bucket: string;
  /** LANDING_PREFIX: prepended to every key (empty, or ending in `/`). */
  prefix: string;
  /** S3_ENDPOINT: an S3-compatible server (path-style addressing); unset for Amazon S3. */
  endpoint?: string;
  region: string;
  /** LANDING_RETENTION_DAYS: landed objects expire after this many days (a bucket lifecycle rule). */
  retentionDays: number;
  /** Explicit keys (the local stack's object server); unset: the AWS SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * LANDING_BUCKET, LANDING_PREFIX, S3_ENDPOINT, LANDING_RETENTION_DAYS. The landing zone is on
 * unless LANDING=off: a worker without a bucket would use answers it could not replay.
 */
export function loadLandingConfig(e: Env = process.env): LandingConfig | null {
  const mode = e.LANDING?.trim().toLowerCase() || 'on';
  if (mode !== 'on' && mode !== 'off')
    throw new ConfigError(`LANDING=${JSON.stringify(e.LANDING)} is not valid: expected on or off.`);
  if (mode === 'off') return null;
  const bucket = e.LANDING_BUCKET?.trim();
  if (!bucket)
    throw new ConfigError(
      'LANDING_BUCKET is not set: every vendor answer is kept in an S3 bucket before it is used (the raw landing zone). Set LANDING_BUCKET (and S3_ENDPOINT for an S3-compatible server), or LANDING=off to sync without keeping answers (no replay).',
    );
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new ConfigError(
      `LANDING_BUCKET=${JSON.stringify(bucket)} is not a valid bucket name: 3 to 63 lowercase letters, digits, dots and hyphens.`,
    );
  const prefix = e.LANDING_PREFIX?.trim() ?? '';
  if (prefix.startsWith('/') || (prefix && !prefix.endsWith('/')))
    throw new ConfigError(
      `LANDING_PREFIX=${JSON.stringify(prefix)} is not valid: expected a key prefix ending in / and not starting with / (for example sales-sync/).`,
    );
  const accessKeyId = e.S3_ACCESS_KEY_ID?.trim();
  const secretAccessKey = e.S3_SECRET_ACCESS_KEY?.trim();
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey))
    throw new ConfigError(
      'Set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (the AWS default chain).',
    );
  return {
    bucket,
    prefix,
    endpoint: e.S3_ENDPOINT?.trim() ? url(e, 'S3_ENDPOINT') : undefined,
    region: awsRegion(e),
    retentionDays: int(e, 'LANDING_RETENTION_DAYS', 90, 1, 36_500),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
}
