/**
 * How every entry point ends (the worker, the feed service, the codec server, the CLI, `npm
 * start`): with the code its `main` returns, or, when it throws, 2 for a setting to fix
 * (ConfigError: the message says which and how) and 1 for anything else: the message of a
 * failure the project names (SyncError), the stack of one nobody foresaw. A script or an
 * orchestrator can then tell "fix the configuration" from "it failed" the same way whatever it
 * started.
 */
import { ConfigError, SyncError } from '../shared/errors.js';

/** Exit code of a setting to fix (a usage mistake on the command line is one too). */
export const EXIT_CONFIG = 2;
/** Exit code of a failure. */
export const EXIT_FAILED = 1;

/** Runs `main`, then exits the process as described above. */
export function exitWith(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (err instanceof ConfigError) {
        console.error(`configuration error: ${err.message}`);
        process.exit(EXIT_CONFIG);
      }
      console.error(err instanceof SyncError ? `error: ${err.message}` : err);
      process.exit(EXIT_FAILED);
    },
  );
}
