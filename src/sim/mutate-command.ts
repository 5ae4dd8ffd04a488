/**
 * `npm run sim -- mutate --voids 1`: makes the history of a running simulator move (npm
 * start's, or `npm run sim`'s) through its control path (control.ts), and prints exactly what
 * changed: the MutationReport as JSON on stdout, a summary on stderr.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CLI_API_KEY, DEFAULT_CLI_PORT, UsageError } from './cli.js';
import { CONTROL_PREFIX, MUTATION_FIELDS, expectedForm, namedMutationOptions } from './control.js';
import type { MutationOptions, MutationReport } from './dataset.js';

/** The key npm start's simulator accepts when VENDOR_API_KEY is unset (src/config/local-stack.ts). */
const LOCAL_STACK_KEY = 'local-sim-key';

/** What `mutate` is asked to do. */
export type MutateCommand =
  | { help: true }
  | {
      help: false;
      /** The simulator's base URL, no trailing slash. */
      url: string;
      /** Keys to try in turn (the defaults of npm start and of npm run sim when none is set). */
      keys: string[];
      /** Where the keys came from, for messages (the keys themselves are never printed). */
      keySource: string;
      /** Only the options named; the simulator takes every count not named as 0. */
      options: Partial<MutationOptions>;
    };

/** The `mutate --help` text. */
export function mutateHelpText(): string {
  const lines = [
    'Usage: npm run sim -- mutate [counts] [--url URL]',
    '',
    "Changes the data a running simulator serves (npm start's, or npm run sim's) and prints exactly",
    'what changed as JSON. Only the counts named change anything; name at least one.',
    '',
  ];
  for (const f of MUTATION_FIELDS) lines.push(`  --${f.flag} <${expectedForm(f)}>`, `      ${f.help}`);
  lines.push(
    '  --url <URL>',
    `      the simulator (default: VENDOR_API_URL, else http://127.0.0.1:SIM_PORT, SIM_PORT default ${DEFAULT_CLI_PORT})`,
    '  --help, -h',
    '',
    'The key is VENDOR_API_KEY (else SIM_API_KEY, else the defaults of npm start and npm run sim); it is',
    'never printed. Example: npm run sim -- mutate --voids 1   (a sale the next run should mark voided)',
  );
  return lines.join('\n');
}

/** Parses `mutate`'s flags (argv after "mutate") and environment; throws UsageError naming a bad flag. */
export function parseMutateCommand(argv: string[], env: NodeJS.ProcessEnv): MutateCommand {
  const spec: Record<string, { type: 'string' } | { type: 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    url: { type: 'string' },
  };
  for (const f of MUTATION_FIELDS) spec[f.flag] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}; see mutate --help`);
  }
  if (values.help === true) return { help: true };
  const named: [string, string][] = [];
  for (const f of MUTATION_FIELDS) {
    const v = values[f.flag];
    if (typeof v === 'string') named.push([f.option, v]);
  }
  let options: Partial<MutationOptions>;
  try {
    options = namedMutationOptions(named, (f) => `--${f.flag}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const port = env.SIM_PORT?.trim() || String(DEFAULT_CLI_PORT);
  const rawUrl =
    typeof values.url === 'string' ? values.url : env.VENDOR_API_URL?.trim() || `http://127.0.0.1:${port}`;
  if (!/^https?:\/\/[^/]/.test(rawUrl))
    throw new UsageError(`invalid --url ${JSON.stringify(rawUrl)}: expected http://host:port`);
  const url = rawUrl.replace(/\/+$/, '');
  const vendorKey = env.VENDOR_API_KEY?.trim();
  const simKeys = (env.SIM_API_KEY ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (vendorKey) return { help: false, url, keys: [vendorKey], keySource: 'VENDOR_API_KEY', options };
  if (simKeys.length > 0) return { help: false, url, keys: simKeys, keySource: 'SIM_API_KEY', options };
  const keys = [LOCAL_STACK_KEY, DEFAULT_CLI_API_KEY];
  return { help: false, url, keys, keySource: 'the defaults of npm start and npm run sim', options };
}

/** One line per kind of change the report holds, e.g. "voided 1 sale(s): 100123 of salesperson 1004 (…)". */
export function describeReport(r: MutationReport): string[] {
  const sales = (
    verb: string,
    list: { saleId: number; employeeId: number; transactionTimestamp?: string }[],
  ) =>
    list.length === 0
      ? []
      : [
          `${verb} ${list.length} sale(s): ${list
            .map(
              (c) =>
                `${c.saleId} of salesperson ${c.employeeId}${c.transactionTimestamp ? ` (${c.transactionTimestamp})` : ''}`,
            )
            .join(', ')}`,
        ];
  const members = (verb: string, list: { employeeId: number }[]) =>
    list.length === 0 ? [] : [`${verb} ${list.length}: ${list.map((c) => JSON.stringify(c)).join(', ')}`];
  return [
    ...sales('added', r.newSales),
    ...sales('corrected', r.correctedSales),
    ...sales('voided', r.voids),
    ...sales('listed again', r.reappearances),
    ...sales('listed late', r.lateSales),
    ...sales('corrected (older than 7 days)', r.oldCorrections),
    ...members('transfers', r.transfers),
    ...members('departures', r.departures),
    ...(r.branchChanges.length
      ? [`branches changed: ${r.branchChanges.map((b) => b.branchId).join(', ')}`]
      : []),
  ];
}

/** Sends the mutation; returns the exit code (0 done, 1 refused or unreachable), printing to `out` and `err`. */
export async function runMutate(
  cmd: Extract<MutateCommand, { help: false }>,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(cmd.options)) query.set(k, String(v));
  const target = `${cmd.url}${CONTROL_PREFIX}mutate?${query.toString()}`;
  for (const key of cmd.keys) {
    let res: Response;
    try {
      res = await fetch(target, { method: 'POST', headers: { 'x-api-key': key } });
    } catch (e) {
      const why = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
      err(
        `sim mutate: cannot reach the simulator at ${cmd.url} (${why}); is npm start or npm run sim running? Set --url or VENDOR_API_URL.`,
      );
      return 1;
    }
    const text = await res.text();
    if (res.status === 401) continue;
    if (res.status !== 200) {
      err(`sim mutate: the simulator at ${cmd.url} answered ${res.status}: ${text.slice(0, 500)}`);
      return 1;
    }
    const report = JSON.parse(text) as MutationReport;
    out(`${JSON.stringify(report, null, 2)}\n`);
    const lines = describeReport(report);
    err(`${lines.length ? lines.join('\n') : 'nothing changed (no candidates for the counts named)'}\n`);
    return 0;
  }
  err(
    `sim mutate: the simulator at ${cmd.url} answered 401 to the key from ${cmd.keySource}: set VENDOR_API_KEY ` +
      'to the key it accepts (npm start: VENDOR_API_KEY, default local-sim-key; npm run sim: SIM_API_KEY or VENDOR_API_KEY, default sim-key).',
  );
  return 1;
}
