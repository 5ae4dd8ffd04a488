/**
 * Connection options for Temporal from configuration: plain for the dev server, mTLS for a
 * self-hosted cluster, API key (with TLS) for Temporal Cloud, as `@temporalio/envconfig` read
 * them (see loadTemporalConfig). Used by the worker's NativeConnection and the client's
 * Connection alike.
 */
import type { TemporalConfig } from './config.js';

/** Address, TLS and API key options for `Connection.connect` / `NativeConnection.connect`. */
export function temporalConnectionOptions(cfg: TemporalConfig): TemporalConfig['connection'] {
  return cfg.connection;
}
