/**
 * Command-line and environment parsing of the stand-alone simulator (src/sim/main.ts),
 * kept apart from main so that tests can check it without starting a process.
 */
import { parseArgs } from 'node:util';
import { parseVendorTimestamp } from '../vendor-api/schemas.js';
import type { BadRecordKind, FaultRates, RetryAfterMode, SimOptions } from './server.js';
import { BAD_RECORD_KINDS, FAULT_KINDS, RETRY_AFTER_MODES } from './server.js';
import { parseInteger, parseNumber } from '../shared/parse.js';

/** A bad flag or environment value; its message names the flag or variable and the expected form. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The key the simulator accepts when neither --api-key, SIM_API_KEY nor VENDOR_API_KEY is set. */
export const DEFAULT_CLI_API_KEY = 'sim-key';
/** The port the stand-alone simulator listens on by default. */
export const DEFAULT_CLI_PORT = 8080;

/** What the command line asks for. */
export type SimCommand =
  | { help: true }
  | {
      help: false;
      options: Partial<SimOptions>;
      /** Seconds between automatic mutations of the data; 0 = never. */
      mutateEverySeconds: number;
      /** Where the api key came from, e.g. "from SIM_API_KEY", for the start-up message (the key itself is never printed). */
      keySource: string;
    };

interface FlagSpec {
  flag: string;
  env: string;
  form: string;
  help: string;
  apply: (value: string, into: Partial<SimOptions>, extra: { mutateEverySeconds: number }) => boolean;
}

function int(
  min: number,
  max: number,
  set: (n: number, into: Partial<SimOptions>) => void,
): FlagSpec['apply'] {
  return (value, into) => {
    const n = parseInteger(value, min, max);
    if (n === undefined) return false;
    set(n, into);
    return true;
  };
}

function num(
  ok: (n: number) => boolean,
  set: (n: number, into: Partial<SimOptions>) => void,
): FlagSpec['apply'] {
  return (value, into) => {
    const n = parseNumber(value, ok);
    if (n === undefined) return false;
    set(n, into);
    return true;
  };
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Parses "kind=rate,kind=rate"; undefined when malformed. */
function parseFaults(value: string): Partial<FaultRates> | undefined {
  const rates: Partial<FaultRates> = {};
  for (const item of list(value)) {
    const [kind, rate, ...rest] = item.split('=');
    if (kind === undefined || rate === undefined || rest.length > 0) return undefined;
    if (!(FAULT_KINDS as readonly string[]).includes(kind.trim())) return undefined;
    const n = Number(rate);
    if (rate.trim() === '' || !(n >= 0 && n <= 1)) return undefined;
    rates[kind.trim() as keyof FaultRates] = n;
  }
  return rates;
}

/** Parses epoch ms, "YYYY-MM-DD HH:MM:SS" (UTC) or an ISO 8601 instant; undefined when none fits. */
function parseInstant(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  const vendor = parseVendorTimestamp(value);
  if (vendor !== undefined) return vendor;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

const FLAGS: readonly FlagSpec[] = [
  {
    flag: 'port',
    env: 'SIM_PORT',
    form: 'an integer 0..65535 (0 picks a free port)',
    help: `TCP port (default ${DEFAULT_CLI_PORT})`,
    apply: int(0, 65535, (n, o) => (o.port = n)),
  },
  {
    flag: 'host',
    env: 'SIM_HOST',
    form: 'a host name or IP address',
    help: 'interface to listen on (default 127.0.0.1)',
    apply: (v, o) => {
      if (v.trim() === '') return false;
      o.host = v.trim();
      return true;
    },
  },
  {
    flag: 'api-key',
    env: 'SIM_API_KEY',
    form: 'one or more keys separated by commas',
    help: `accepted x-api-key values, comma-separated (default: VENDOR_API_KEY, else "${DEFAULT_CLI_API_KEY}"); prefer the env variable, flags show in ps`,
    apply: (v, o) => {
      const keys = list(v);
      if (keys.length === 0) return false;
      o.apiKeys = keys;
      return true;
    },
  },
  {
    flag: 'seed',
    env: 'SIM_SEED',
    form: 'an integer',
    help: 'seed of the generated data (default 1)',
    apply: int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, (n, o) => (o.seed = n)),
  },
  {
    flag: 'branches',
    env: 'SIM_BRANCHES',
    form: 'an integer >= 1',
    help: 'number of branches (default 13: Scranton … New York, then "Branch 14", …)',
    apply: int(1, 100_000, (n, o) => (o.branches = n)),
  },
  {
    flag: 'employees-per-branch',
    env: 'SIM_EMPLOYEES_PER_BRANCH',
    form: 'an integer >= 0',
    help: 'employees per branch (default 12)',
    apply: int(0, 1_000_000, (n, o) => (o.employeesPerBranch = n)),
  },
  {
    flag: 'salesperson-share',
    env: 'SIM_SALESPERSON_SHARE',
    form: 'a number 0..1',
    help: 'share of each branch that are salespersons (default 0.5)',
    apply: num(
      (n) => n >= 0 && n <= 1,
      (n, o) => (o.salespersonShare = n),
    ),
  },
  {
    flag: 'sales-per-salesperson',
    env: 'SIM_SALES_PER_SALESPERSON',
    form: 'an integer >= 0',
    help: 'sales generated per salesperson (default 20)',
    apply: int(0, 10_000_000, (n, o) => (o.salesPerSalesperson = n)),
  },
  {
    flag: 'extra-fields',
    env: 'SIM_EXTRA_FIELDS',
    form: 'an integer >= 0',
    help: 'extra string fields extra_1..extra_N on every record (default 0)',
    apply: int(0, 1000, (n, o) => (o.extraFields = n)),
  },
  {
    flag: 'anchor-time',
    env: 'SIM_ANCHOR_TIME',
    form: 'epoch milliseconds, "YYYY-MM-DD HH:MM:SS" (UTC) or an ISO 8601 instant',
    help: 'sales lie in [anchor - span, anchor) (default: the current hour start)',
    apply: (v, o) => {
      const ms = parseInstant(v.trim());
      if (ms === undefined) return false;
      o.anchorTime = ms;
      return true;
    },
  },
  {
    flag: 'sales-span-hours',
    env: 'SIM_SALES_SPAN_HOURS',
    form: 'a number > 0',
    help: 'width of the generated sales window in hours (default 20)',
    apply: num(
      (n) => n > 0,
      (n, o) => (o.salesSpanHours = n),
    ),
  },
  {
    flag: 'quota',
    env: 'SIM_QUOTA',
    form: 'a number: 0 (unlimited) or >= 1',
    help: 'requests per second per key, as a token bucket of that size (default 20)',
    apply: num(
      (n) => n === 0 || n >= 1,
      (n, o) => (o.quota = n),
    ),
  },
  {
    flag: 'retry-after',
    env: 'SIM_RETRY_AFTER',
    form: `one of ${RETRY_AFTER_MODES.join(', ')}`,
    help: 'Retry-After on 429: whole seconds, always 0, fractional seconds, or no header (default seconds)',
    apply: (v, o) => {
      if (!(RETRY_AFTER_MODES as readonly string[]).includes(v.trim())) return false;
      o.retryAfterMode = v.trim() as RetryAfterMode;
      return true;
    },
  },
  {
    flag: 'latency-ms',
    env: 'SIM_LATENCY_MS',
    form: 'a number >= 0',
    help: 'delay before every answer in ms (default 0)',
    apply: num(
      (n) => n >= 0,
      (n, o) => (o.latencyMs = n),
    ),
  },
  {
    flag: 'latency-jitter-ms',
    env: 'SIM_LATENCY_JITTER_MS',
    form: 'a number >= 0',
    help: 'up to this many ms of random delay on top of --latency-ms (default 0)',
    apply: num(
      (n) => n >= 0,
      (n, o) => (o.latencyJitterMs = n),
    ),
  },
  {
    flag: 'faults',
    env: 'SIM_FAULTS',
    form: `kind=rate pairs separated by commas, rate 0..1, kind one of ${FAULT_KINDS.join(', ')}`,
    help: 'fault rates, e.g. "error5xx=0.05,drop=0.01,badRecord=0.001" (default none)',
    apply: (v, o) => {
      const rates = parseFaults(v);
      if (!rates) return false;
      o.faults = rates;
      return true;
    },
  },
  {
    flag: 'fault-seed',
    env: 'SIM_FAULT_SEED',
    form: 'an integer',
    help: 'seed of the fault generator (default: --seed)',
    apply: int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, (n, o) => (o.faultSeed = n)),
  },
  {
    flag: 'slow-ms',
    env: 'SIM_SLOW_MS',
    form: 'a number >= 0',
    help: 'extra delay of a "slow" fault in ms (default 30000)',
    apply: num(
      (n) => n >= 0,
      (n, o) => (o.slowMs = n),
    ),
  },
  {
    flag: 'bad-record-kinds',
    env: 'SIM_BAD_RECORD_KINDS',
    form: `kinds separated by commas, each one of ${BAD_RECORD_KINDS.join(', ')}`,
    help: 'corruptions a badRecord fault may choose from (default all)',
    apply: (v, o) => {
      const kinds = list(v);
      if (kinds.length === 0 || kinds.some((k) => !(BAD_RECORD_KINDS as readonly string[]).includes(k)))
        return false;
      o.badRecordKinds = kinds as BadRecordKind[];
      return true;
    },
  },
  {
    flag: 'mutate-every-s',
    env: 'SIM_MUTATE_EVERY_S',
    form: 'a number >= 0',
    help: 'apply a random mutation (new/corrected sales, a transfer, a departure, a branch change) every N seconds; 0 = never (default 0)',
    apply: (v, _o, extra) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || n < 0) return false;
      extra.mutateEverySeconds = n;
      return true;
    },
  },
];

/** The --help text: every flag with its environment variable, expected form and default. */
export function helpText(): string {
  const lines = [
    'Usage: npm run sim -- [flags]   (or: tsx src/sim/main.ts [flags])',
    "       npm run sim -- mutate --voids 1   (changes a running simulator's data: mutate --help)",
    '',
    'Runs the vendor sales API simulator (GET /branches, /employees, /sales) until SIGINT or SIGTERM.',
    'POST /_sim/mutate?voids=1&… (same key) changes its data and answers what changed.',
    'Every flag can also be set by its environment variable; a flag wins over the variable.',
    '',
  ];
  for (const spec of FLAGS) {
    lines.push(`  --${spec.flag} <value>   (env ${spec.env})`);
    lines.push(`      ${spec.help}`);
    lines.push(`      expects ${spec.form}`);
  }
  lines.push('  --help, -h', '      prints this text');
  lines.push(
    '',
    'Clients send the key in the x-api-key header; the pipeline reads it from VENDOR_API_KEY and the',
    'base URL from VENDOR_API_URL. The key is never printed.',
  );
  return lines.join('\n');
}

/** Parses flags (argv without node and script) and environment into simulator options; throws UsageError. */
export function parseSimCommandLine(argv: string[], env: NodeJS.ProcessEnv): SimCommand {
  const optionsSpec: Record<string, { type: 'string' } | { type: 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const spec of FLAGS) optionsSpec[spec.flag] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: optionsSpec, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}; see --help for the flags`);
  }
  if (values['help'] === true) return { help: true };

  const options: Partial<SimOptions> = { port: DEFAULT_CLI_PORT, apiKeys: [DEFAULT_CLI_API_KEY] };
  const extra = { mutateEverySeconds: 0 };
  let keySource = 'the built-in default (see --help)';
  const vendorKey = env['VENDOR_API_KEY'];
  if (vendorKey !== undefined && vendorKey !== '') {
    options.apiKeys = [vendorKey];
    keySource = 'from VENDOR_API_KEY';
  }
  for (const spec of FLAGS) {
    const flagValue = values[spec.flag];
    const envValue = env[spec.env];
    let source: string;
    let value: string;
    if (typeof flagValue === 'string') {
      source = `--${spec.flag}`;
      value = flagValue;
    } else if (envValue !== undefined && envValue !== '') {
      source = spec.env;
      value = envValue;
    } else {
      continue;
    }
    // The api key is a secret: its value never appears in an error message.
    const shownValue = spec.flag === 'api-key' ? '' : ` ${JSON.stringify(value)}`;
    if (!spec.apply(value, options, extra)) {
      throw new UsageError(`invalid ${source}${shownValue}: expected ${spec.form}`);
    }
    if (spec.flag === 'api-key') keySource = `from ${source}`;
  }
  return { help: false, options, mutateEverySeconds: extra.mutateEverySeconds, keySource };
}
