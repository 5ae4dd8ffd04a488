/**
 * The simulator's control path, beside the vendor API: `POST /_sim/mutate?voids=1&…` applies a
 * mutation to the served data and answers its MutationReport, so that a user of a running
 * simulator (npm start's, or `npm run sim`) can make history move: `npm run sim -- mutate`
 * (mutate-command.ts) sends it. Control requests are not vendor traffic: no quota, no faults,
 * no latency, not counted. The option list is shared with the command line.
 */
import type { PlainAnswer } from './answers.js';
import { error, shown } from './answers.js';
import type { Dataset, MutationOptions } from './dataset.js';
import { parseInteger } from '../shared/parse.js';

/** The path prefix of control requests. */
export const CONTROL_PREFIX = '/_sim/';

/** One option of a mutation as the control path and the command line take it. */
export interface MutationField {
  /** The MutationOptions key, also the query parameter. */
  option: keyof MutationOptions;
  /** The command-line flag, without dashes. */
  flag: string;
  /** 'count': a change count (at least one must be named); 'int': an integer; 'bool': true or false. */
  kind: 'count' | 'int' | 'bool';
  help: string;
}

/** Every option a mutation takes over the control path, in the order --help lists them. */
export const MUTATION_FIELDS: readonly MutationField[] = [
  { option: 'newSales', flag: 'new-sales', kind: 'count', help: 'new sales in the hour before now' },
  {
    option: 'correctedSales',
    flag: 'corrected-sales',
    kind: 'count',
    help: 'sales whose amount and quantity change',
  },
  { option: 'transfers', flag: 'transfers', kind: 'count', help: 'salespersons added under another branch' },
  { option: 'departures', flag: 'departures', kind: 'count', help: 'memberships removed (the sales stay)' },
  {
    option: 'branchChanges',
    flag: 'branch-changes',
    kind: 'count',
    help: 'branches whose location or a field changes',
  },
  { option: 'voids', flag: 'voids', kind: 'count', help: 'sales no longer listed (kept aside)' },
  {
    option: 'reappearances',
    flag: 'reappearances',
    kind: 'count',
    help: 'voided sales listed again, unchanged',
  },
  { option: 'lateSales', flag: 'late-sales', kind: 'count', help: 'new sales dated 3..30 days before now' },
  {
    option: 'oldCorrections',
    flag: 'old-corrections',
    kind: 'count',
    help: 'corrections of sales older than 7 days',
  },
  {
    option: 'seed',
    flag: 'seed',
    kind: 'int',
    help: 'seed of the choices (default: derived from the data seed)',
  },
  { option: 'now', flag: 'now', kind: 'int', help: 'epoch ms the timestamps are relative to (default: now)' },
  {
    option: 'keepUnderOld',
    flag: 'keep-under-old',
    kind: 'bool',
    help: 'a transfer stays listed under the old branch (default true)',
  },
];

/** What a value of `field` must look like, for error messages. */
export function expectedForm(field: MutationField): string {
  if (field.kind === 'count') return 'an integer >= 0';
  if (field.kind === 'bool') return 'true or false';
  return 'an integer';
}

/** Parses one value of `field`; undefined when malformed. */
export function parseField(field: MutationField, raw: string): number | boolean | undefined {
  if (field.kind === 'bool') return raw === 'true' ? true : raw === 'false' ? false : undefined;
  const min = field.kind === 'count' ? 0 : Number.MIN_SAFE_INTEGER;
  return parseInteger(raw, min, Number.MAX_SAFE_INTEGER);
}

/**
 * The mutation options named in `values` (query parameters or flags), checked. Throws
 * RangeError naming a bad or unknown name (as `describe` shows it), and when no count of
 * changes is named.
 */
export function namedMutationOptions(
  values: Iterable<[string, string]>,
  describe: (field: MutationField) => string = (f) => f.option,
): Partial<MutationOptions> {
  const options: Record<string, number | boolean> = {};
  for (const [name, raw] of values) {
    const field = MUTATION_FIELDS.find((f) => f.option === name);
    if (!field) {
      const known = MUTATION_FIELDS.map(describe).join(', ');
      throw new RangeError(`unknown mutation option ${shown(name)}; expected one of ${known}`);
    }
    const value = parseField(field, raw);
    if (value === undefined)
      throw new RangeError(`invalid ${describe(field)} ${shown(raw)}: expected ${expectedForm(field)}`);
    options[field.option] = value;
  }
  if (!MUTATION_FIELDS.some((f) => f.kind === 'count' && f.option in options)) {
    const names = MUTATION_FIELDS.filter((f) => f.kind === 'count').map(describe);
    throw new RangeError(`name at least one count of changes (${names.join(', ')}), e.g. voids=1`);
  }
  return options;
}

/** The answer to an authenticated control request: 200 with the report, or an error. */
export function controlAnswer(dataset: Dataset, method: string | undefined, url: URL): PlainAnswer {
  if (url.pathname !== `${CONTROL_PREFIX}mutate`)
    return error(404, `unknown control path ${shown(url.pathname)}; expected POST ${CONTROL_PREFIX}mutate`);
  if (method !== 'POST')
    return error(405, `${CONTROL_PREFIX}mutate takes POST, got ${method ?? '?'}`, { allow: 'POST' });
  // A count not named is 0, so that one request changes only what it names.
  const options: Partial<MutationOptions> = {};
  for (const f of MUTATION_FIELDS) if (f.kind === 'count') Object.assign(options, { [f.option]: 0 });
  try {
    Object.assign(options, namedMutationOptions(url.searchParams.entries()));
  } catch (err) {
    return error(400, (err as Error).message);
  }
  try {
    return { kind: 'plain', status: 200, body: dataset.mutate(options) };
  } catch (err) {
    return error(400, err instanceof Error ? err.message : String(err));
  }
}
