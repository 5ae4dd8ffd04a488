/**
 * The command line's options: how each is read and checked, before anything connects to
 * Temporal. A mistake is a UsageError (exit 2) that names the option and the expected form.
 */
import { SYNC_WINDOW_HOURS_RANGE, loadSyncDefaults, parseBranchList } from '../config/sync.js';
import { parseInteger } from '../shared/parse.js';
import type { SalesSyncInput } from '../workflows/types.js';
import { TIME_FORMS, parseCliTime } from './time.js';

/** A mistake in the command line: printed with the command's help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Command {
  usage: string;
  help: string;
  options: Record<string, { type: 'string' | 'boolean'; help: string }>;
  /** Positional arguments it takes, by name (none when absent): anything more is a usage error. */
  positionals?: string[];
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
}

export const branchesOption = {
  type: 'string',
  help: 'comma-separated exact branch names, or "all" for every branch the vendor lists (default: SYNC_BRANCHES or the 13 original branches)',
} as const;

export function isoOption(values: Record<string, unknown>, name: string): Date {
  const raw = values[name];
  if (typeof raw !== 'string')
    throw new UsageError(`--${name} is required (an ISO time such as 2026-11-20T00:00:00Z).`);
  const date = parseCliTime(raw);
  if (!date) throw new UsageError(`--${name}=${raw} is not a time: use ${TIME_FORMS}.`);
  return date;
}

/** A whole number option within [min, max]; `fallback` when absent. */
export function intOption(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = values[name] as string | boolean | undefined;
  if (raw === undefined) return fallback;
  const n = typeof raw === 'string' ? parseInteger(raw, min, max) : undefined;
  if (n === undefined)
    throw new UsageError(
      `--${name}=${String(raw)} is not valid: expected a whole number from ${min} to ${max}.`,
    );
  return n;
}

/** The input of a run (or of the hourly schedule's runs): the settings' defaults, then the options. */
export function syncInput(values: Record<string, string | boolean | undefined>): SalesSyncInput {
  const d = loadSyncDefaults();
  let branches = d.branches;
  if (typeof values.branches === 'string') {
    try {
      branches = parseBranchList(values.branches, '--branches');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const input: SalesSyncInput = {
    branches,
    windowHours: d.windowHours,
    branchConcurrency: d.branchConcurrency,
    salespersonConcurrency: d.salespersonConcurrency,
    watermarkOverlapMinutes: d.watermarkOverlapMinutes,
    voidGuardPercent: d.voidGuardPercent,
  };
  if (values.full) {
    const windowed = ['window-end', 'window-hours'].filter((o) => values[o] !== undefined);
    if (windowed.length)
      throw new UsageError(
        `--full syncs every sale, so ${windowed.map((o) => `--${o}`).join(' and ')} cannot go with it: drop one or the other.`,
      );
    input.window = 'full';
  }
  if (values['window-end'] !== undefined) input.windowEnd = isoOption(values, 'window-end').toISOString();
  input.windowHours = intOption(
    values,
    'window-hours',
    d.windowHours,
    SYNC_WINDOW_HOURS_RANGE.min,
    SYNC_WINDOW_HOURS_RANGE.max,
  );
  return input;
}
