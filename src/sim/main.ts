/**
 * Runs the vendor API simulator alone: `npm run sim -- --help`. Flags and SIM_*
 * variables configure it (see cli.ts); it prints its URL and where the api key came
 * from (never the key), and stops cleanly on SIGINT or SIGTERM.
 * `npm run sim -- mutate …` instead changes a running simulator's data (mutate-command.ts).
 */
import { parseSimCommandLine, helpText, UsageError } from './cli.js';
import { mutateHelpText, parseMutateCommand, runMutate } from './mutate-command.js';
import { VendorSimulator } from './server.js';

/** `mutate`: exit 0 done, 1 refused or unreachable, 2 a bad flag. */
async function mutate(argv: string[]): Promise<number> {
  let command;
  try {
    command = parseMutateCommand(argv, process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`sim mutate: ${err.message}\n`);
    return 2;
  }
  if (command.help) {
    process.stdout.write(`${mutateHelpText()}\n`);
    return 0;
  }
  return runMutate(
    command,
    (s) => process.stdout.write(s),
    (s) => process.stderr.write(s),
  );
}

async function main(): Promise<number> {
  if (process.argv[2] === 'mutate') return mutate(process.argv.slice(3));
  let command;
  try {
    command = parseSimCommandLine(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sim: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (command.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }

  let sim: VendorSimulator;
  try {
    sim = await VendorSimulator.start(command.options);
  } catch (err) {
    process.stderr.write(`sim: ${err instanceof Error ? err.message : String(err)}\n`);
    // An option rejected by the simulator itself is a usage error too.
    return err instanceof RangeError ? 2 : 1;
  }
  const ds = sim.dataset;
  const salespersons = ds.salesBySalesperson.size;
  const sales = [...ds.salesBySalesperson.values()].reduce((n, list) => n + list.length, 0);
  process.stdout.write(
    [
      `vendor simulator listening on ${sim.url}`,
      `  VENDOR_API_URL=${sim.url}`,
      `  api key: ${command.keySource}; clients send it as x-api-key (the pipeline: key from VENDOR_API_KEY)`,
      `  data: ${ds.branches.length} branches, ${salespersons} salespersons, ${sales} sales (seed ${ds.options.seed})`,
      `  quota: ${sim.options.quota === 0 ? 'unlimited' : `${sim.options.quota} requests/s per key`}`,
      '',
    ].join('\n'),
  );

  let mutator: NodeJS.Timeout | undefined;
  if (command.mutateEverySeconds > 0) {
    mutator = setInterval(() => {
      const r = sim.mutate();
      process.stdout.write(
        `mutation: ${r.newSales.length} new sales, ${r.correctedSales.length} corrected, ` +
          `${r.transfers.length} transfers, ${r.departures.length} departures, ${r.branchChanges.length} branches changed\n`,
      );
    }, command.mutateEverySeconds * 1000);
  }

  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.stdout.write(`sim: ${signal}, stopping\n`);
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  if (mutator) clearInterval(mutator);
  await sim.stop();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
