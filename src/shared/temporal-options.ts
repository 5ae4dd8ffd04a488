/**
 * Connection options for Temporal from configuration: plain for the dev server, mTLS for
 * a self-hosted cluster, API key (with TLS) for Temporal Cloud. Used by the worker's
 * NativeConnection and the client's Connection alike.
 */
import { readFileSync } from 'node:fs';
import type { TemporalConfig } from './config.js';
import { ConfigError } from './errors.js';

function read(path: string, name: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(
      `${name}=${path} cannot be read (${(err as NodeJS.ErrnoException).code}): point it at a readable PEM file.`,
    );
  }
}

/** Address, TLS and API key options for `Connection.connect` / `NativeConnection.connect`. */
export function temporalConnectionOptions(cfg: TemporalConfig) {
  const tls =
    cfg.tlsCertPath && cfg.tlsKeyPath
      ? {
          clientCertPair: {
            crt: read(cfg.tlsCertPath, 'TEMPORAL_TLS_CERT_PATH'),
            key: read(cfg.tlsKeyPath, 'TEMPORAL_TLS_KEY_PATH'),
          },
        }
      : cfg.tls;
  return { address: cfg.address, ...(tls ? { tls } : {}), ...(cfg.apiKey ? { apiKey: cfg.apiKey } : {}) };
}
