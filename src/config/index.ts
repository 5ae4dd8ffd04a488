/**
 * Every setting of the worker process, read once from the environment and validated at start:
 * the composition of the concerns of src/config/ (each module also loads alone, for processes
 * that need only its part). A bad or missing value stops the process with a ConfigError that
 * names the variable and the expected form. Payload encryption is read by src/codec/config.ts,
 * just as strictly: the codec server runs alone and needs only that.
 */
import { type DynamoConfig, loadDynamoConfig } from './aws.js';
import type { Env } from './env.js';
import { type LandingConfig, loadLandingConfig } from './landing.js';
import { type MetricsConfig, loadMetricsConfig, loadVoidAlertThreshold } from './metrics.js';
import { type NotifyConfig, loadNotifyConfig } from './notify.js';
import { type SweepSettings, type SyncDefaults, loadSweepSettings, loadSyncDefaults } from './sync.js';
import { type TemporalConfig, loadTemporalConfig } from './temporal.js';
import { type VendorConfig, loadVendorConfig } from './vendor.js';
import { type WorkerConfig, loadTaskQueueSuffix, loadWorkerConfig } from './worker.js';

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
  /** The lookback sweeps' schedules. */
  sweeps: SweepSettings;
  /** Sales voided in an hour above which the SalesSyncManyVoids alert fires (VOID_ALERT_THRESHOLD). */
  voidAlertThreshold: number;
  taskQueueSuffix: string;
  /** Null when LANDING=off. */
  landing: LandingConfig | null;
}

/** Reads and validates every setting. `overrides` win over `env` (the main job and tests use them). */
export function loadConfig(env: Env = process.env, overrides: Env = {}): Config {
  const e: Env = { ...env, ...overrides };
  return {
    temporal: loadTemporalConfig(e),
    vendor: loadVendorConfig(e),
    dynamo: loadDynamoConfig(e),
    sync: loadSyncDefaults(e),
    sweeps: loadSweepSettings(e),
    voidAlertThreshold: loadVoidAlertThreshold(e),
    notify: loadNotifyConfig(e),
    metrics: loadMetricsConfig(e),
    worker: loadWorkerConfig(e),
    taskQueueSuffix: loadTaskQueueSuffix(e),
    landing: loadLandingConfig(e),
  };
}
