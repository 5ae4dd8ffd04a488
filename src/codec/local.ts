/**
 * Secrets for the local stack (`npm start`) when none are configured: a payload key and a
 * codec server token, generated once and kept in `<DATA_DIR>/codec-secrets.json` (mode 0600)
 * next to the Temporal database they protect, so histories stay readable across restarts.
 * Production sets PAYLOAD_ENCRYPTION_KEY and CODEC_SERVER_TOKEN from its secret store instead.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../node/root.js';
import { ConfigError } from '../shared/errors.js';

export const LOCAL_SECRETS_FILE = 'codec-secrets.json';

export interface LocalSecrets {
  PAYLOAD_ENCRYPTION_KEY: string;
  PAYLOAD_ENCRYPTION_KEY_ID: string;
  CODEC_SERVER_TOKEN: string;
}

/**
 * Settings for the local stack, to merge into the main job's overrides: the generated key (with
 * its id) unless the environment configures keys itself, and the generated token unless
 * CODEC_SERVER_TOKEN is set. Names the environment sets are never returned.
 */
export function localCodecSecrets(
  dataDir: string,
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const file = join(dataDir, LOCAL_SECRETS_FILE);
  let secrets: LocalSecrets;
  if (existsSync(file)) {
    try {
      secrets = JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
    } catch (err) {
      throw new ConfigError(
        `${file} cannot be read as JSON (${(err as Error).name}): delete it only if no history encrypted with it must stay readable.`,
      );
    }
    if (!secrets.PAYLOAD_ENCRYPTION_KEY || !secrets.CODEC_SERVER_TOKEN)
      throw new ConfigError(
        `${file} lacks PAYLOAD_ENCRYPTION_KEY or CODEC_SERVER_TOKEN: restore it or delete it.`,
      );
  } else {
    secrets = {
      PAYLOAD_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      PAYLOAD_ENCRYPTION_KEY_ID: 'local1',
      CODEC_SERVER_TOKEN: randomBytes(24).toString('base64url'),
    };
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  const out: Record<string, string> = {};
  if (!env.PAYLOAD_ENCRYPTION_KEY?.trim() && !env.PAYLOAD_DECRYPTION_KEYS?.trim()) {
    out.PAYLOAD_ENCRYPTION_KEY = secrets.PAYLOAD_ENCRYPTION_KEY;
    if (!env.PAYLOAD_ENCRYPTION_KEY_ID?.trim())
      out.PAYLOAD_ENCRYPTION_KEY_ID = secrets.PAYLOAD_ENCRYPTION_KEY_ID || 'local1';
  }
  if (!env.CODEC_SERVER_TOKEN?.trim()) out.CODEC_SERVER_TOKEN = secrets.CODEC_SERVER_TOKEN;
  return out;
}

/** Where the local stack keeps its state: DATA_DIR, else `.data/` in the repo. */
export function localDataDir(env: Record<string, string | undefined> = process.env): string {
  return env.DATA_DIR?.trim() || join(PROJECT_ROOT, '.data');
}

/** The local stack's generated secrets, read only (undefined when `npm start` never ran with this DATA_DIR). */
export function readLocalCodecSecrets(dataDir: string): LocalSecrets | undefined {
  const file = join(dataDir, LOCAL_SECRETS_FILE);
  if (!existsSync(file)) return undefined;
  let secrets: Partial<LocalSecrets>;
  try {
    secrets = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>;
  } catch (err) {
    throw new ConfigError(
      `${file} cannot be read as JSON (${(err as Error).name}): restore it from a backup, or stop the local stack and delete it (histories encrypted with its key become unreadable).`,
    );
  }
  if (!secrets.PAYLOAD_ENCRYPTION_KEY || !secrets.CODEC_SERVER_TOKEN)
    throw new ConfigError(
      `${file} lacks PAYLOAD_ENCRYPTION_KEY or CODEC_SERVER_TOKEN: restore it or delete it.`,
    );
  return {
    PAYLOAD_ENCRYPTION_KEY: secrets.PAYLOAD_ENCRYPTION_KEY,
    PAYLOAD_ENCRYPTION_KEY_ID: secrets.PAYLOAD_ENCRYPTION_KEY_ID || 'local1',
    CODEC_SERVER_TOKEN: secrets.CODEC_SERVER_TOKEN,
  };
}

/** Where the running local stack listens, written by `npm start` so that the CLI finds it. */
export interface LocalStackInfo {
  temporalAddress: string;
  namespace: string;
  /** The codec server's URL (absent when payloads are not encrypted). */
  codecUrl?: string;
  uiUrl?: string;
}

export const LOCAL_STACK_FILE = 'local-stack.json';

export function writeLocalStackInfo(dataDir: string, info: LocalStackInfo): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, LOCAL_STACK_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

/** What the last `npm start` with this DATA_DIR wrote, or undefined. */
export function readLocalStackInfo(dataDir: string): LocalStackInfo | undefined {
  const file = join(dataDir, LOCAL_STACK_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalStackInfo>;
    if (typeof info.temporalAddress !== 'string' || typeof info.namespace !== 'string') return undefined;
    return info as LocalStackInfo;
  } catch {
    return undefined;
  }
}
