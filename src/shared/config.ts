/**
 * Every setting, read once from the environment and validated at start. A bad or missing
 * value stops the process with a ConfigError that names the variable and the expected
 * form. Nothing else in the project reads process.env for settings.
 */
import { readFileSync } from 'node:fs';
import { isInsecureVendorUrl } from '../vendor-api/client.js';
import { MAX_VENDOR_TIMEOUT_MS, VENDOR_START_TO_CLOSE_MS } from './activity-timeouts.js';
import { ConfigError } from './errors.js';
import { DEFAULT_BRANCHES } from './branches.js';

/** Where Temporal is and how to authenticate to it (dev server, self-hosted cluster or Temporal Cloud). */
export interface TemporalConfig {
  address: string;
  namespace: string;
  /** Temporal Cloud API key; implies TLS. */
  apiKey?: string;
  tls: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
}

/** The vendor API. `apiKey` is a secret: never log it, never put it in workflow data. */
export interface VendorConfig {
  url: string;
  apiKey: string;
  /** Requests per second the vendor allows this key. */
  quotaRps: number;
  /**
   * The vendor task queue's rate limit: `quotaRps` less VENDOR_QUOTA_HEADROOM_PERCENT (10% by
   * default). See DEFAULT_QUOTA_HEADROOM_PERCENT.
   */
  rateLimitRps: number;
  pageSize: number;
  timeoutMs: number;
  /** VENDOR_ALLOW_INSECURE_HTTP: accept an http:// URL to a host other than loopback. */
  allowInsecureHttp: boolean;
}

/** DynamoDB: the endpoint and region follow the usual AWS configuration unless set here. */
export interface DynamoConfig {
  endpoint?: string;
  region: string;
  tablePrefix: string;
  tableSuffix: string;
}

/** What a run syncs by default. */
export interface SyncDefaults {
  branches: string[] | 'all';
  windowHours: number;
  branchConcurrency: number;
  salespersonConcurrency: number;
}

/** Where run notices and the follow-up step go (all optional). */
export interface NotifyConfig {
  webhookUrl?: string;
  snsTopicArn?: string;
  setAsideThreshold: number;
  followUpUrl?: string;
}

/** Default WORKER_MAX_CACHED_WORKFLOWS. */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;

/** One worker process. */
export interface WorkerConfig {
  /**
   * Workflow runs kept in memory between tasks (WORKER_MAX_CACHED_WORKFLOWS). The SDK's
   * default grows with the V8 heap limit (about 2,300 on a 24 GB host), which lets the
   * resident set grow far past what the work needs; a run has at most
   * branch concurrency x (salesperson concurrency + 1) + 1 workflows open (69 by default).
   */
  maxCachedWorkflows: number;
}

/** All settings. */
export interface Config {
  worker: WorkerConfig;
  notify: NotifyConfig;
  temporal: TemporalConfig;
  vendor: VendorConfig;
  dynamo: DynamoConfig;
  sync: SyncDefaults;
  taskQueueSuffix: string;
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string, fallback?: string): string {
  const v = env[name]?.trim();
  if (v) return v;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${name} is not set. Set it in the environment (see README, "Configuration").`);
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is not valid: expected an integer from ${min} to ${max}.`,
    );
  }
  return n;
}

function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: expected a number greater than 0.`);
  }
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: expected true or false.`);
}

function url(env: Env, name: string, fallback?: string): string {
  const raw = str(env, name, fallback);
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is not valid: expected an http(s) URL such as http://127.0.0.1:8080.`,
    );
  }
  return raw.replace(/\/+$/, '');
}

/** Parses a branch list setting: comma-separated exact names, or `all` for every branch the vendor lists. */
export function parseBranchList(raw: string, name = 'SYNC_BRANCHES'): string[] | 'all' {
  if (raw.trim().toLowerCase() === 'all') return 'all';
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0)
    throw new ConfigError(`${name} is empty: expected comma-separated branch names or "all".`);
  return [...new Set(names)];
}

/** The vendor key from VENDOR_API_KEY, or from the file VENDOR_API_KEY_FILE names (how secret stores mount it). */
function vendorKey(env: Env): string {
  const file = env.VENDOR_API_KEY_FILE?.trim();
  if (file) {
    let key: string;
    try {
      key = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError(
        `VENDOR_API_KEY_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code}): point it at a readable file holding the key.`,
      );
    }
    if (!key) throw new ConfigError(`VENDOR_API_KEY_FILE=${file} is empty: it must hold the vendor API key.`);
    return key;
  }
  return str(env, 'VENDOR_API_KEY');
}

/** Temporal settings alone (the CLI needs no vendor key). */
export function loadTemporalConfig(e: Env = process.env): TemporalConfig {
  const apiKey = e.TEMPORAL_API_KEY?.trim() || undefined;
  const tlsCertPath = e.TEMPORAL_TLS_CERT_PATH?.trim() || undefined;
  const tlsKeyPath = e.TEMPORAL_TLS_KEY_PATH?.trim() || undefined;
  if (Boolean(tlsCertPath) !== Boolean(tlsKeyPath)) {
    throw new ConfigError(
      'TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH go together: set both (mTLS) or neither.',
    );
  }
  return {
    address: str(e, 'TEMPORAL_ADDRESS', '127.0.0.1:7233'),
    namespace: str(e, 'TEMPORAL_NAMESPACE', 'default'),
    apiKey,
    tls: bool(e, 'TEMPORAL_TLS', Boolean(apiKey || tlsCertPath)),
    tlsCertPath,
    tlsKeyPath,
  };
}

/** DynamoDB settings alone. */
export function loadDynamoConfig(e: Env = process.env): DynamoConfig {
  return {
    endpoint: e.DYNAMODB_ENDPOINT?.trim() ? url(e, 'DYNAMODB_ENDPOINT') : undefined,
    region: str(e, 'AWS_REGION', e.AWS_DEFAULT_REGION?.trim() || 'us-east-1'),
    tablePrefix: e.TABLE_PREFIX ?? 'sales-sync-',
    tableSuffix: e.TABLE_SUFFIX ?? '',
  };
}

/** Bounds of SYNC_WINDOW_HOURS (and the CLI's --window-hours): 1 hour to a leap year. */
export const SYNC_WINDOW_HOURS_RANGE = { min: 1, max: 24 * 366 } as const;

/** What a run syncs by default. */
export function loadSyncDefaults(e: Env = process.env): SyncDefaults {
  return {
    branches: e.SYNC_BRANCHES?.trim() ? parseBranchList(e.SYNC_BRANCHES) : [...DEFAULT_BRANCHES],
    windowHours: int(e, 'SYNC_WINDOW_HOURS', 24, SYNC_WINDOW_HOURS_RANGE.min, SYNC_WINDOW_HOURS_RANGE.max),
    branchConcurrency: int(e, 'SYNC_BRANCH_CONCURRENCY', 4, 1, 500),
    salespersonConcurrency: int(e, 'SYNC_SALESPERSON_CONCURRENCY', 16, 1, 500),
  };
}

/**
 * Default VENDOR_QUOTA_HEADROOM_PERCENT. The Temporal server releases a task queue's tasks at
 * rate r with a burst of ceil(r) (one second's worth, not configurable); the vendor's bucket
 * holds Q tokens refilled at Q per second. Dispatch conforms to the vendor's bucket when r <= Q,
 * but requests reach the vendor after a delay that varies by some jitter d (event loop, GC,
 * a busy CPU), and a burst arriving compressed fits only when ceil(r) + r * d <= Q. At Q = 20:
 * 5% (r = 19) tolerates 53 ms of jitter and still saw 2 x 429 in 1 of 14 benchmark runs;
 * 10% (r = 18) tolerates 111 ms, at a cost of ~5% of wall time (BENCHMARKS.md).
 */
export const DEFAULT_QUOTA_HEADROOM_PERCENT = 10;

/** The vendor task queue's rate limit for a quota and a headroom in percent. */
export function rateLimitFor(quotaRps: number, headroomPercent = DEFAULT_QUOTA_HEADROOM_PERCENT): number {
  return (quotaRps * (100 - headroomPercent)) / 100;
}

/** Vendor settings (the worker needs them; the key is a secret). */
export function loadVendorConfig(e: Env = process.env): VendorConfig {
  const quotaRps = positiveNumber(e, 'VENDOR_QUOTA_RPS', 20);
  const headroom = int(e, 'VENDOR_QUOTA_HEADROOM_PERCENT', DEFAULT_QUOTA_HEADROOM_PERCENT, 0, 50);
  const vendorUrl = url(e, 'VENDOR_API_URL');
  const allowInsecureHttp = bool(e, 'VENDOR_ALLOW_INSECURE_HTTP', false);
  if (isInsecureVendorUrl(vendorUrl) && !allowInsecureHttp) {
    throw new ConfigError(
      `VENDOR_API_URL=${vendorUrl} is plain http to a host other than loopback: the API key would travel in clear. Use https, or set VENDOR_ALLOW_INSECURE_HTTP=true if this network is trusted.`,
    );
  }
  const timeoutRaw = e.VENDOR_TIMEOUT_MS?.trim();
  if (timeoutRaw && Number(timeoutRaw) > MAX_VENDOR_TIMEOUT_MS) {
    throw new ConfigError(
      `VENDOR_TIMEOUT_MS=${timeoutRaw} is too long: an activity attempt has ${VENDOR_START_TO_CLOSE_MS / 1000} s for the request and the writes of its page, so the request may take at most ${MAX_VENDOR_TIMEOUT_MS} ms.`,
    );
  }
  return {
    url: vendorUrl,
    apiKey: vendorKey(e),
    quotaRps,
    rateLimitRps: rateLimitFor(quotaRps, headroom),
    pageSize: int(e, 'VENDOR_PAGE_SIZE', 100, 1, 500),
    timeoutMs: int(e, 'VENDOR_TIMEOUT_MS', 10_000, 100, MAX_VENDOR_TIMEOUT_MS),
    allowInsecureHttp,
  };
}

/** Notification settings: NOTIFY_WEBHOOK_URL, NOTIFY_SNS_TOPIC_ARN, NOTIFY_SET_ASIDE_THRESHOLD, FOLLOW_UP_WEBHOOK_URL. */
export function loadNotifyConfig(e: Env = process.env): NotifyConfig {
  const arn = e.NOTIFY_SNS_TOPIC_ARN?.trim() || undefined;
  if (arn && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(arn)) {
    throw new ConfigError(
      `NOTIFY_SNS_TOPIC_ARN=${JSON.stringify(arn)} is not valid: expected a topic ARN such as arn:aws:sns:us-east-1:123456789012:sales-sync-alerts.`,
    );
  }
  return {
    webhookUrl: e.NOTIFY_WEBHOOK_URL?.trim() ? url(e, 'NOTIFY_WEBHOOK_URL') : undefined,
    snsTopicArn: arn,
    setAsideThreshold: int(e, 'NOTIFY_SET_ASIDE_THRESHOLD', 10, 0, Number.MAX_SAFE_INTEGER),
    followUpUrl: e.FOLLOW_UP_WEBHOOK_URL?.trim() ? url(e, 'FOLLOW_UP_WEBHOOK_URL') : undefined,
  };
}

/** Reads and validates every setting. `overrides` win over `env` (the main job and tests use them). */
export function loadConfig(env: Env = process.env, overrides: Env = {}): Config {
  const e: Env = { ...env, ...overrides };
  return {
    temporal: loadTemporalConfig(e),
    vendor: loadVendorConfig(e),
    dynamo: loadDynamoConfig(e),
    sync: loadSyncDefaults(e),
    notify: loadNotifyConfig(e),
    worker: {
      maxCachedWorkflows: int(e, 'WORKER_MAX_CACHED_WORKFLOWS', DEFAULT_MAX_CACHED_WORKFLOWS, 2, 100_000),
    },
    taskQueueSuffix: e.TASK_QUEUE_SUFFIX?.trim() ?? '',
  };
}
