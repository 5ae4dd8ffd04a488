/**
 * The number parsers of every setting and command line (the worker's environment, the CLI's
 * options, the simulator's flags): one strict reading of a number everywhere. Pure.
 */

/** A whole number from `min` to `max` in plain decimal, or undefined: the one integer parser of every setting. */
export function parseInteger(raw: string, min: number, max: number): number | undefined {
  const t = raw.trim();
  if (!/^-?\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

/** A finite number (decimal or exponent form) that `ok` accepts, or undefined: the one number parser. */
export function parseNumber(raw: string, ok: (n: number) => boolean = () => true): number | undefined {
  const t = raw.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) && ok(n) ? n : undefined;
}
