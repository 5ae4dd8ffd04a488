/**
 * Every setting, read once from the environment and validated at start. A bad or missing
 * value stops the process with a ConfigError that names the variable and the expected
 * form. The one exception is payload encryption (src/codec/config.ts and client-settings.ts):
 * the codec server runs alone and needs only those, and they are read just as strictly. Every
 * number of every setting goes through parseInteger or parseNumber (./parse.ts), the simulator's
 * command line included. One module on purpose (every setting in one place), so it runs a
 * little over 400 lines.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type ClientConnectConfig, loadClientConnectConfig } from '@temporalio/envconfig';
import { isInsecureVendorUrl } from './loopback.js';
import { DEFAULT_MAX_ANSWER_BYTES, MAX_MAX_ANSWER_BYTES, MIN_MAX_ANSWER_BYTES } from './answer-limits.js';
import { MAX_VENDOR_TIMEOUT_MS, VENDOR_START_TO_CLOSE_MS } from './activity-timeouts.js';
import { ConfigError } from './errors.js';
import { DEFAULT_BRANCHES } from './branches.js';
import { DEFAULT_BRANCH_CONCURRENCY, DEFAULT_SALESPERSON_CONCURRENCY } from './concurrency.js';
import { parseInteger, parseNumber } from './parse.js';

export { parseInteger, parseNumber } from './parse.js';

/**
 * Where Temporal is and how to authenticate to it (dev server, self-hosted cluster or Temporal
 * Cloud), read by `@temporalio/envconfig` from Temporal's standard variables (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE)
 * and the `temporal.toml` profiles the Temporal CLI shares.
 */
export interface TemporalConfig {
  address: string;
  namespace: string;
  /** Options for `Connection.connect` / `NativeConnection.connect` (address, TLS, API key). */
  connection: ClientConnectConfig['connectionOptions'];
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
  /** VENDOR_MAX_ANSWER_BYTES: most bytes of one answer read, after decompression. */
  maxAnswerBytes: number;
}

/** DynamoDB: the endpoint and region follow the usual AWS configuration unless set here. */
export interface DynamoConfig {
  endpoint?: string;
  /** AWS credentials are configured (AWS_ACCESS_KEY_ID or AWS_PROFILE); else DynamoDB Local gets dummy ones. */
  hasCredentials?: boolean;
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
  /** WORKER_LOG_LEVEL: how much the Temporal runtime logs. */
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/** Default METRICS_PORT (the usual port of an OpenTelemetry Prometheus exporter). */
export const DEFAULT_METRICS_PORT = 9464;

/** The worker's Prometheus endpoint, `/metrics`: METRICS_PORT (0: a free port) on METRICS_BIND. */
export interface MetricsConfig {
  port: number;
  /** An IP address (the exporter binds a socket address, not a host name). */
  bind: string;
}

/** All settings. */
export interface Config {
  worker: WorkerConfig;
  /** Null when METRICS_PORT=off. */
  metrics: MetricsConfig | null;
  notify: NotifyConfig;
  temporal: TemporalConfig;
  vendor: VendorConfig;
  dynamo: DynamoConfig;
  sync: SyncDefaults;
  taskQueueSuffix: string;
  /** Null when LANDING=off. */
  landing: LandingConfig | null;
}

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
  const n = parseInteger(raw, min, max);
  if (n === undefined) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is not valid: expected an integer from ${min} to ${max}.`,
    );
  }
  return n;
}

function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = parseNumber(raw, (x) => x > 0);
  if (n === undefined) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: expected a number greater than 0.`);
  }
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: expected true or false (on or off).`);
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

/** This project's earlier names for Temporal's standard TLS variables: still read, with a warning. */
const DEPRECATED_TEMPORAL_NAMES: Record<string, string> = {
  TEMPORAL_TLS_CERT_PATH: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY_PATH: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
};

/** Temporal settings alone (the CLI needs no vendor key). `warn` hears about deprecated names. */
export function loadTemporalConfig(
  e: Env = process.env,
  warn: (message: string) => void = (m) => console.warn(m),
): TemporalConfig {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(e)) if (v !== undefined) env[k] = v;
  for (const [old, standard] of Object.entries(DEPRECATED_TEMPORAL_NAMES)) {
    if (!env[old]?.trim()) continue;
    if (env[standard]?.trim()) {
      throw new ConfigError(
        `${old} and ${standard} are both set: keep ${standard} (Temporal's standard name) only.`,
      );
    }
    warn(
      `${old} is deprecated: rename it to ${standard} (Temporal's standard name, also read by the Temporal CLI).`,
    );
    env[standard] = env[old];
    delete env[old];
  }
  bool(env, 'TEMPORAL_TLS', false); // envconfig reads it; a typo must not pass silently
  const cert = env.TEMPORAL_TLS_CLIENT_CERT_PATH?.trim();
  const key = env.TEMPORAL_TLS_CLIENT_KEY_PATH?.trim();
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError(
      'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: set both (mTLS) or neither.',
    );
  }
  for (const name of [
    'TEMPORAL_TLS_CLIENT_CERT_PATH',
    'TEMPORAL_TLS_CLIENT_KEY_PATH',
    'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  ]) {
    const path = env[name]?.trim();
    if (!path) continue;
    try {
      readFileSync(path);
    } catch (err) {
      throw new ConfigError(
        `${name}=${path} cannot be read (${(err as NodeJS.ErrnoException).code}): point it at a readable PEM file.`,
      );
    }
  }
  let loaded: ClientConnectConfig;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: env });
  } catch (err) {
    throw new ConfigError(
      `the Temporal connection settings cannot be read: ${(err as Error).message}. Check TEMPORAL_* variables, TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE (or ~/.config/temporalio/temporal.toml).`,
      { cause: err },
    );
  }
  const address = loaded.connectionOptions.address ?? '127.0.0.1:7233';
  return {
    address,
    namespace: loaded.namespace ?? 'default',
    connection: { ...loaded.connectionOptions, address },
  };
}

/** DynamoDB settings alone. */
export function loadDynamoConfig(e: Env = process.env): DynamoConfig {
  return {
    endpoint: e.DYNAMODB_ENDPOINT?.trim() ? url(e, 'DYNAMODB_ENDPOINT') : undefined,
    region: str(e, 'AWS_REGION', e.AWS_DEFAULT_REGION?.trim() || 'us-east-1'),
    hasCredentials: Boolean(e.AWS_ACCESS_KEY_ID?.trim() || e.AWS_PROFILE?.trim()),
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
    branchConcurrency: int(e, 'SYNC_BRANCH_CONCURRENCY', DEFAULT_BRANCH_CONCURRENCY, 1, 500),
    salespersonConcurrency: int(e, 'SYNC_SALESPERSON_CONCURRENCY', DEFAULT_SALESPERSON_CONCURRENCY, 1, 500),
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
function loadVendorConfig(e: Env = process.env): VendorConfig {
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
    maxAnswerBytes: int(
      e,
      'VENDOR_MAX_ANSWER_BYTES',
      DEFAULT_MAX_ANSWER_BYTES,
      MIN_MAX_ANSWER_BYTES,
      MAX_MAX_ANSWER_BYTES,
    ),
  };
}

/** Notification settings: NOTIFY_WEBHOOK_URL, NOTIFY_SNS_TOPIC_ARN, NOTIFY_SET_ASIDE_THRESHOLD, FOLLOW_UP_WEBHOOK_URL. */
function loadNotifyConfig(e: Env = process.env): NotifyConfig {
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
    metrics: loadMetricsConfig(e),
    worker: {
      maxCachedWorkflows: int(e, 'WORKER_MAX_CACHED_WORKFLOWS', DEFAULT_MAX_CACHED_WORKFLOWS, 2, 100_000),
      logLevel: loadLogLevel(e),
    },
    taskQueueSuffix: loadTaskQueueSuffix(e),
    landing: loadLandingConfig(e),
  };
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
    region: str(e, 'AWS_REGION', e.AWS_DEFAULT_REGION?.trim() || 'us-east-1'),
    retentionDays: int(e, 'LANDING_RETENTION_DAYS', 90, 1, 36_500),
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
  };
}

/**
 * METRICS_PORT (9464; 0: a free port, printed at start; `off`: no endpoint) and METRICS_BIND
 * (0.0.0.0: a Prometheus server scrapes from elsewhere). Two workers on one machine need two
 * ports: a busy port stops the worker with a message saying so.
 */
export function loadMetricsConfig(e: Env = process.env): MetricsConfig | null {
  if (e.METRICS_PORT?.trim().toLowerCase() === 'off') return null;
  const bind = e.METRICS_BIND?.trim() || '0.0.0.0';
  if (!isIP(bind))
    throw new ConfigError(
      `METRICS_BIND=${JSON.stringify(bind)} is not valid: expected an IP address such as 0.0.0.0 or 127.0.0.1.`,
    );
  return { port: int(e, 'METRICS_PORT', DEFAULT_METRICS_PORT, 0, 65535), bind };
}

/** The local stack (`npm start`): what it starts itself, on which ports, and the simulator's size. */
export interface LocalStackConfig {
  /** Which parts run locally: each is local unless its production setting is given. */
  local: { temporal: boolean; dynamo: boolean; vendor: boolean; objects: boolean };
  /** TEMPORAL_PORT, TEMPORAL_UI_PORT, DYNAMODB_LOCAL_PORT, SIM_PORT (0: a free port), S3_LOCAL_PORT. */
  ports: { temporal: number; ui: number; dynamo: number; sim: number; objects: number };
  /** The simulator npm start serves: VENDOR_QUOTA_RPS and SIM_*. */
  sim: {
    apiKey: string;
    quota: number;
    latencyMs: number;
    seed: number;
    branches: number;
    employeesPerBranch: number;
    salesPerSalesperson: number;
  };
  /** TEMPORAL_UI_URL: where the Web UI is reached, when not the dev server's own. */
  uiUrl?: string;
}

/** The local stack's settings, read and validated like every other setting. */
export function loadLocalStackConfig(e: Env = process.env): LocalStackConfig {
  const port = (name: string, fallback: number, min = 1) => int(e, name, fallback, min, 65535);
  const count = (name: string, fallback: number) => int(e, name, fallback, 0, 1_000_000);
  return {
    local: {
      temporal: !e.TEMPORAL_ADDRESS?.trim() && !e.TEMPORAL_PROFILE?.trim(),
      dynamo:
        !e.DYNAMODB_ENDPOINT?.trim() && !e.AWS_ENDPOINT_URL_DYNAMODB?.trim() && e.USE_AWS_DYNAMODB !== 'true',
      vendor: !e.VENDOR_API_URL?.trim(),
      // The landing zone is local unless a bucket is given (or it is off).
      objects: !e.LANDING_BUCKET?.trim() && e.LANDING?.trim().toLowerCase() !== 'off',
    },
    ports: {
      temporal: port('TEMPORAL_PORT', 7233),
      ui: port('TEMPORAL_UI_PORT', 8233),
      dynamo: port('DYNAMODB_LOCAL_PORT', 8000),
      sim: port('SIM_PORT', 8080, 0),
      objects: port('S3_LOCAL_PORT', 7070),
    },
    sim: {
      apiKey: e.VENDOR_API_KEY?.trim() || 'local-sim-key',
      quota: positiveNumber(e, 'VENDOR_QUOTA_RPS', 20),
      latencyMs: count('SIM_LATENCY_MS', 20),
      seed: count('SIM_SEED', 1),
      branches: count('SIM_BRANCHES', 13),
      employeesPerBranch: count('SIM_EMPLOYEES_PER_BRANCH', 12),
      salesPerSalesperson: count('SIM_SALES_PER_SALESPERSON', 20),
    },
    uiUrl: e.TEMPORAL_UI_URL?.trim() || undefined,
  };
}

/** Levels WORKER_LOG_LEVEL takes (the Temporal runtime's). */
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** WORKER_LOG_LEVEL: how much the Temporal runtime logs (default WARN). */
export function loadLogLevel(e: Env = process.env): (typeof LOG_LEVELS)[number] {
  const raw = e.WORKER_LOG_LEVEL?.trim();
  if (!raw) return 'WARN';
  const level = LOG_LEVELS.find((l) => l === raw.toUpperCase());
  if (!level)
    throw new ConfigError(
      `WORKER_LOG_LEVEL=${JSON.stringify(raw)} is not valid: expected one of ${LOG_LEVELS.join(', ')}.`,
    );
  return level;
}

/** TASK_QUEUE_SUFFIX: a suffix of both task queues, to run parallel environments in one namespace. */
export function loadTaskQueueSuffix(e: Env = process.env): string {
  return e.TASK_QUEUE_SUFFIX?.trim() ?? '';
}

/** The change feed and the SQL copy (docs/change-feed.md): DATABASE_URL, FEED_*; the objects go to the landing bucket. */
export interface FeedConfig {
  /** DATABASE_URL: the PostgreSQL copy; the local stack starts its own when unset. */
  databaseUrl?: string;
  /** POSTGRES_PORT: the local stack's PostgreSQL (when DATABASE_URL is unset). */
  localPort: number;
  /** Firehose-like buffering: FEED_BATCH_MAX_EVENTS, FEED_BATCH_MAX_BYTES, FEED_BATCH_MAX_SECONDS. */
  settings: { maxEvents: number; maxBytes: number; maxSeconds: number; idleSeconds: number };
  /** RECONCILE_REPAIR: the scheduled reconcile repairs what it finds (default), or only reports it. */
  reconcileRepair: boolean;
}

/** Change-feed settings alone. */
export function loadFeedConfig(e: Env = process.env): FeedConfig {
  const databaseUrl = e.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new ConfigError('DATABASE_URL is not valid: expected postgres://user:password@host:port/database.');
  return {
    databaseUrl,
    localPort: int(e, 'POSTGRES_PORT', 5432, 1, 65535),
    settings: {
      maxEvents: int(e, 'FEED_BATCH_MAX_EVENTS', 500, 1, 10_000),
      maxBytes: int(e, 'FEED_BATCH_MAX_BYTES', 5 * 1024 * 1024, 1024, 128 * 1024 * 1024),
      maxSeconds: int(e, 'FEED_BATCH_MAX_SECONDS', 10, 1, 900),
      idleSeconds: 20,
    },
    reconcileRepair: bool(e, 'RECONCILE_REPAIR', true),
  };
}
