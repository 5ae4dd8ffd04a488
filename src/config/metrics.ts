/** The worker's Prometheus endpoint (METRICS_PORT, METRICS_BIND) and the void alert's threshold. */
import { isIP } from 'node:net';
import { ConfigError } from '../shared/errors.js';
import { type Env, int } from './env.js';

/** Default METRICS_PORT (the usual port of an OpenTelemetry Prometheus exporter). */
export const DEFAULT_METRICS_PORT = 9464;

/** The worker's Prometheus endpoint, `/metrics`: METRICS_PORT (0: a free port) on METRICS_BIND. */
export interface MetricsConfig {
  port: number;
  /** An IP address (the exporter binds a socket address, not a host name). */
  bind: string;
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

/**
 * VOID_ALERT_THRESHOLD (100): sales voided in an hour above which SalesSyncManyVoids fires. The
 * worker exports it as a gauge the rule compares with, so the rule file stays the same for every
 * deployment.
 */
export function loadVoidAlertThreshold(e: Env = process.env): number {
  return int(e, 'VOID_ALERT_THRESHOLD', 100, 1, Number.MAX_SAFE_INTEGER);
}
