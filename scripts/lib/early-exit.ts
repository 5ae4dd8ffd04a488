/**
 * Starting a server again when it exits while it starts. The Temporal dev server picks the ports
 * of its internal services at random as it starts, and another process can take one between its
 * check and its bind: it then panics ("bind: address already in use") before it listens. Another
 * start picks other ports. Only an exit while starting is retried: a busy configured port, a
 * deadline or a bad setting fail at once.
 */

/** The server exited before it listened. */
export class ExitedEarlyError extends Error {}

/** Runs `start` up to `attempts` times while it fails with ExitedEarlyError, telling `log` each time. */
export async function startAgainOnEarlyExit<T>(
  what: string,
  attempts: number,
  start: () => Promise<T>,
  log: (line: string) => void = (line) => console.error(line),
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (!(err instanceof ExitedEarlyError) || attempt >= attempts) throw err;
      log(`${err.message} Starting the ${what} again (attempt ${attempt + 1} of ${attempts}).`);
    }
  }
}
