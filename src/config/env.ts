/**
 * The one set of setting parsers every concern of src/config/ reads its variables with: a bad
 * value is a ConfigError that names the variable and the expected form. Every number goes
 * through parseInteger or parseNumber (shared/parse.ts), the CLI's and the simulator's too.
 */
import { ConfigError } from '../shared/errors.js';
import { parseInteger, parseNumber } from '../shared/parse.js';

/** The environment (or overrides of it) a loader reads. */
export type Env = Record<string, string | undefined>;

/** A required text setting, or `fallback` when unset. */
export function str(env: Env, name: string, fallback?: string): string {
  const v = env[name]?.trim();
  if (v) return v;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(`${name} is not set. Set it in the environment (see README, "Configuration").`);
}

/** An integer setting from `min` to `max`, or `fallback` when unset. */
export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
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

/** A number setting greater than 0, or `fallback` when unset. */
export function positiveNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = parseNumber(raw, (x) => x > 0);
  if (n === undefined) {
    throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: expected a number greater than 0.`);
  }
  return n;
}

/** A true/false (on/off, yes/no, 1/0) setting, or `fallback` when unset. */
export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: expected true or false (on or off).`);
}

/** An http(s) URL setting without trailing slashes, or `fallback` when unset. */
export function url(env: Env, name: string, fallback?: string): string {
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
