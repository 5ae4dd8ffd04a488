/**
 * How every entry point ends (the worker, the feed service, the codec server, the CLI, `npm
 * start`): with the code its `main` returns, or, when it throws, 2 for something to fix in the
 * settings or on the command line and 1 for anything else. A script or an orchestrator can then
 * tell "fix the configuration" from "it failed" the same way whatever it started.
 */
import { ConfigError } from '../shared/errors.js';

/** Exit code of a setting or a command line to fix. */
export const EXIT_CONFIG = 2;
/** Exit code of a failure. */
export const EXIT_FAILED = 1;

/** A command-line mistake node:util's parseArgs reports (an unknown option, a missing value). */
function isUsageError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}

/**
 * What is printed for an error: its message and the messages of its causes (an AWS or network
 * error under a failure of ours says what went wrong below), the stack only for a programming
 * error, where the message alone cannot say where.
 */
export function describeExit(err: unknown): string {
  if (err instanceof ConfigError) return `configuration error: ${err.message}`;
  if (!(err instanceof Error)) return `error: ${String(err)}`;
  const programming = err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError;
  const lines = [
    programming && !isUsageError(err) ? `error: ${err.stack ?? err.message}` : `error: ${err.message}`,
  ];
  for (let cause = err.cause, depth = 0; cause !== undefined && depth < 5; depth++) {
    lines.push(
      `  caused by: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : JSON.stringify(cause)}`,
    );
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return lines.join('\n');
}

/** Runs `main`, then exits the process as described above. */
export function exitWith(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(describeExit(err));
      process.exit(err instanceof ConfigError || isUsageError(err) ? EXIT_CONFIG : EXIT_FAILED);
    },
  );
}
