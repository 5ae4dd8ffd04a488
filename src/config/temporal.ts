/**
 * Where Temporal is and how to authenticate to it: Temporal's standard variables and the
 * `temporal.toml` profiles, read by `@temporalio/envconfig`. The CLI, the worker and the feed
 * service read this alone (no vendor key needed).
 */
import { readFileSync } from 'node:fs';
import { type ClientConnectConfig, loadClientConnectConfig } from '@temporalio/envconfig';
import { ConfigError } from '../shared/errors.js';
import { type Env, bool } from './env.js';

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

/**
 * Address, TLS and API key options for `Connection.connect` / `NativeConnection.connect`: plain
 * for the dev server, mTLS for a self-hosted cluster, API key (with TLS) for Temporal Cloud.
 */
export function temporalConnectionOptions(cfg: TemporalConfig): TemporalConfig['connection'] {
  return cfg.connection;
}
