/**
 * Payload encryption settings, read once and validated at start:
 *
 * - `PAYLOAD_ENCRYPTION_KEY`: base64 of exactly 32 random bytes (`openssl rand -base64 32`), the
 *   current key: every payload sent to Temporal is encrypted with it. Unset: no encryption.
 * - `PAYLOAD_ENCRYPTION_KEY_ID` (default `k1`): its id, written next to each ciphertext so that
 *   keys can rotate; 1 to 64 characters from `A-Z a-z 0-9 . _ -`.
 * - `PAYLOAD_DECRYPTION_KEYS` (optional): older keys still needed to read existing histories,
 *   as comma-separated `id:base64` pairs, e.g. `k1:<base64>,k0:<base64>`.
 *
 * Rotation: generate a new key, move the current `id:key` into PAYLOAD_DECRYPTION_KEYS, set the
 * new key and a new id, and restart workers, clients and the codec server. Keep an old key as
 * long as a history encrypted with it is retained.
 *
 * Keys are held as `KeyObject`s, so logging a config never prints key material, and no error
 * message here ever includes a key.
 */
import { type KeyObject, createSecretKey } from 'node:crypto';
import type { Env } from '../config/env.js';
import { ConfigError } from '../shared/errors.js';

/** Payload encryption: the id of the key new payloads are encrypted with, and every key known by id. */
export interface CodecConfig {
  /** Id of the current key (PAYLOAD_ENCRYPTION_KEY_ID). */
  readonly keyId: string;
  /** Every key this process can decrypt with, by id: the current one first, then PAYLOAD_DECRYPTION_KEYS. */
  readonly keys: ReadonlyMap<string, KeyObject>;
}

export const DEFAULT_KEY_ID = 'k1';
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const KEY_FORM = `expected base64 of ${KEY_BYTES} random bytes, e.g. from \`openssl rand -base64 32\``;
const KEY_ID_FORM = 'expected 1 to 64 characters from A-Z a-z 0-9 . _ - (e.g. k1, k2, 2026-11)';
const KEYS_FORM =
  'expected comma-separated id:key pairs such as k1:<base64 of 32 bytes>,k0:<base64 of 32 bytes>';

/** Decodes a base64 (or base64url) key of exactly 32 bytes; `what` names the setting in errors. */
function parseKey(raw: string, what: string): KeyObject {
  const text = raw.trim();
  const bytes = Buffer.from(text, 'base64');
  const unpadded = text.replace(/=+$/, '');
  const isBase64 =
    /^[A-Za-z0-9+/_-]+={0,2}$/.test(text) &&
    (bytes.toString('base64').replace(/=+$/, '') === unpadded || bytes.toString('base64url') === unpadded);
  if (!isBase64) throw new ConfigError(`${what} is not valid: it is not base64; ${KEY_FORM}.`);
  if (bytes.length !== KEY_BYTES)
    throw new ConfigError(`${what} is not valid: it decodes to ${bytes.length} bytes; ${KEY_FORM}.`);
  if (bytes.every((b) => b === 0))
    throw new ConfigError(`${what} is not valid: it is all zero bytes, not a random key; ${KEY_FORM}.`);
  return createSecretKey(bytes);
}

function parseOlderKeys(raw: string): Array<[string, KeyObject]> {
  const name = 'PAYLOAD_DECRYPTION_KEYS';
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new ConfigError(`${name} is empty: ${KEYS_FORM}, or leave it unset.`);
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    // Never echo the entry: it may be a bare key.
    if (colon < 0)
      throw new ConfigError(`${name} is not valid: entry ${i + 1} is not of the form id:key; ${KEYS_FORM}.`);
    const id = entry.slice(0, colon).trim();
    if (!KEY_ID.test(id))
      throw new ConfigError(
        `${name} is not valid: the key id of entry ${i + 1} is not valid; ${KEY_ID_FORM}.`,
      );
    if (seen.has(id))
      throw new ConfigError(
        `${name} is not valid: key id "${id}" appears twice; give each key its own id. ${KEYS_FORM}.`,
      );
    seen.add(id);
    return [id, parseKey(entry.slice(colon + 1), `${name} (entry ${i + 1}, key id "${id}")`)];
  });
}

/**
 * Reads the payload encryption settings. Returns `undefined` when PAYLOAD_ENCRYPTION_KEY is unset
 * (no encryption) unless `required`; throws ConfigError naming the variable and the expected form
 * for anything malformed, and when the other two are set without the key.
 */
export function loadCodecConfig(
  env: Env = process.env,
  opts: { required?: boolean } = {},
): CodecConfig | undefined {
  const key = env.PAYLOAD_ENCRYPTION_KEY?.trim();
  const keyId = env.PAYLOAD_ENCRYPTION_KEY_ID?.trim();
  const older = env.PAYLOAD_DECRYPTION_KEYS?.trim();
  if (!key) {
    const orphan = older ? 'PAYLOAD_DECRYPTION_KEYS' : keyId ? 'PAYLOAD_ENCRYPTION_KEY_ID' : undefined;
    if (orphan)
      throw new ConfigError(
        `${orphan} is set but PAYLOAD_ENCRYPTION_KEY is not: set PAYLOAD_ENCRYPTION_KEY (${KEY_FORM}), or unset ${orphan} to run without payload encryption.`,
      );
    if (opts.required)
      throw new ConfigError(
        `PAYLOAD_ENCRYPTION_KEY is not set: ${KEY_FORM}. It must be the key the workers use (and PAYLOAD_DECRYPTION_KEYS their older keys).`,
      );
    return undefined;
  }
  const id = keyId || DEFAULT_KEY_ID;
  if (!KEY_ID.test(id)) throw new ConfigError(`PAYLOAD_ENCRYPTION_KEY_ID is not valid: ${KEY_ID_FORM}.`);
  const current = parseKey(key, 'PAYLOAD_ENCRYPTION_KEY');
  const keys = new Map<string, KeyObject>([[id, current]]);
  for (const [olderId, olderKey] of older ? parseOlderKeys(older) : []) {
    if (olderId === id) {
      if (olderKey.equals(current)) continue;
      throw new ConfigError(
        `PAYLOAD_DECRYPTION_KEYS is not valid: it holds a different key under "${id}", the id of PAYLOAD_ENCRYPTION_KEY (PAYLOAD_ENCRYPTION_KEY_ID). Give the new key a new id.`,
      );
    }
    keys.set(olderId, olderKey);
  }
  return { keyId: id, keys };
}

/** One line for logs: the cipher and key ids, never key material. */
export function describeCodecConfig(cfg: CodecConfig | undefined): string {
  if (!cfg) return 'payloads not encrypted (PAYLOAD_ENCRYPTION_KEY unset)';
  const older = [...cfg.keys.keys()].filter((id) => id !== cfg.keyId);
  return `payloads encrypted with AES-256-GCM, key id ${cfg.keyId}${older.length ? ` (older keys for decryption: ${older.join(', ')})` : ''}`;
}
