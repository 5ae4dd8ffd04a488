/**
 * Payload encryption for clients (the project's CLI): on by default, and never silently off.
 *
 * - PAYLOAD_ENCRYPTION_KEY set: the environment's keys (as for the worker).
 * - Otherwise, on the local stack (TEMPORAL_ADDRESS unset, or the address `npm start` wrote in
 *   DATA_DIR/local-stack.json): the key `npm start` generated in DATA_DIR/codec-secrets.json, and
 *   the stack's Temporal address.
 * - PAYLOAD_ENCRYPTION=off: no codec, payloads in plain JSON (only for a deployment whose
 *   workers do not encrypt).
 * - Anything else is a ConfigError naming the missing variables: a client without the key never
 *   starts a run or a schedule with plaintext payloads into a deployment that encrypts.
 */
import { join } from 'node:path';
import type { Env } from '../config/env.js';
import { ConfigError } from '../shared/errors.js';
import { type CodecConfig, loadCodecConfig } from './config.js';
import {
  LOCAL_SECRETS_FILE,
  type LocalStackInfo,
  localDataDir,
  readLocalCodecSecrets,
  readLocalStackInfo,
} from './local.js';

/** A client's payload codec and the settings it derived, with where they came from. */
export interface ClientSettings {
  /** undefined only when PAYLOAD_ENCRYPTION=off. */
  codec: CodecConfig | undefined;
  /** Where the codec settings came from, for messages: "environment", "local stack (...)", "PAYLOAD_ENCRYPTION=off". */
  source: string;
  /** Settings to merge over the environment (the local stack's TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE). */
  overrides: Record<string, string>;
  /** The running local stack, when this client talks to it. */
  localStack?: LocalStackInfo;
}

const KEY_VARIABLES = ['PAYLOAD_ENCRYPTION_KEY', 'PAYLOAD_ENCRYPTION_KEY_ID', 'PAYLOAD_DECRYPTION_KEYS'];

/** PAYLOAD_ENCRYPTION: on (default) or off. */
export function encryptionSwitch(env: Env = process.env): 'on' | 'off' {
  const raw = env.PAYLOAD_ENCRYPTION?.trim().toLowerCase();
  if (!raw || raw === 'on') return 'on';
  if (raw === 'off') return 'off';
  throw new ConfigError(
    `PAYLOAD_ENCRYPTION=${JSON.stringify(env.PAYLOAD_ENCRYPTION)} is not valid: expected on (the default) or off.`,
  );
}

/** Resolves the client's codec (see the module comment). Throws ConfigError naming what to set. */
export function resolveClientSettings(env: Env = process.env): ClientSettings {
  const dataDir = localDataDir(env);
  const stack = readLocalStackInfo(dataDir);
  const address = env.TEMPORAL_ADDRESS?.trim();
  const isLocal = !address || (stack !== undefined && address === stack.temporalAddress);
  const overrides: Record<string, string> = {};
  if (isLocal && stack && !address) {
    overrides.TEMPORAL_ADDRESS = stack.temporalAddress;
    if (!env.TEMPORAL_NAMESPACE?.trim()) overrides.TEMPORAL_NAMESPACE = stack.namespace;
  }
  const localStack = isLocal ? stack : undefined;

  if (encryptionSwitch(env) === 'off') {
    const set = KEY_VARIABLES.filter((v) => env[v]?.trim());
    if (set.length)
      throw new ConfigError(
        `PAYLOAD_ENCRYPTION=off but ${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set: unset PAYLOAD_ENCRYPTION to encrypt with that key, or unset ${set.join(', ')} to send plain payloads.`,
      );
    return { codec: undefined, source: 'PAYLOAD_ENCRYPTION=off', overrides, localStack };
  }
  if (env.PAYLOAD_ENCRYPTION_KEY?.trim() || env.PAYLOAD_DECRYPTION_KEYS?.trim())
    return {
      codec: loadCodecConfig(env, { required: true }),
      source: 'environment',
      overrides,
      localStack,
    };

  const file = join(dataDir, LOCAL_SECRETS_FILE);
  const otherwise =
    'Set PAYLOAD_ENCRYPTION=off only if the workers of that deployment do not encrypt payloads.';
  if (isLocal) {
    const secrets = readLocalCodecSecrets(dataDir);
    if (!secrets)
      throw new ConfigError(
        `payloads are encrypted by default, and this client has no key: PAYLOAD_ENCRYPTION_KEY is not set and the local stack's ${file} does not exist. Start the local stack first (\`npm start\`, with the same DATA_DIR), or set PAYLOAD_ENCRYPTION_KEY and PAYLOAD_ENCRYPTION_KEY_ID to the workers' values. ${otherwise}`,
      );
    return {
      codec: loadCodecConfig(
        {
          ...env,
          PAYLOAD_ENCRYPTION_KEY: secrets.PAYLOAD_ENCRYPTION_KEY,
          PAYLOAD_ENCRYPTION_KEY_ID:
            env.PAYLOAD_ENCRYPTION_KEY_ID?.trim() || secrets.PAYLOAD_ENCRYPTION_KEY_ID,
        },
        { required: true },
      ),
      source: `local stack (${file})`,
      overrides,
      localStack,
    };
  }
  const missing = [
    'PAYLOAD_ENCRYPTION_KEY',
    ...(env.PAYLOAD_ENCRYPTION_KEY_ID?.trim() ? [] : ['PAYLOAD_ENCRYPTION_KEY_ID']),
  ];
  throw new ConfigError(
    `payloads are encrypted by default, and this client has no key for the deployment at TEMPORAL_ADDRESS=${address}: missing ${missing.join(
      ' and ',
    )}. Set PAYLOAD_ENCRYPTION_KEY to the workers' current key (base64 of 32 bytes) and PAYLOAD_ENCRYPTION_KEY_ID to its id (default k1), plus PAYLOAD_DECRYPTION_KEYS if the workers keep older keys. ${otherwise}`,
  );
}
