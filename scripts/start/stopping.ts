/**
 * How `npm start` stops (docs/failure-modes.md, "Stopping"): on Ctrl-C, SIGTERM, the end of a
 * `--once` run or a failure, the workers and the feed first (a grace period, then cancelled, then
 * left), then the servers in reverse order of their start. A second Ctrl-C, or the stop deadline,
 * ends everything at once; so does any exit of the process: no server outlives it.
 */
import { STOP_DEADLINE_MS, onStopSignals, signalExitCode } from '../../src/shutdown.js';
import { StopList } from '../lib/stop-list.js';

/** Everything `npm start` started, and how it stops. */
export class Stopping {
  /** The servers, stopped in reverse order after the services. */
  readonly servers = new StopList();
  #services: (() => Promise<void>) | undefined;
  #stopping: Promise<void> | undefined;

  constructor() {
    // The last resort, whatever ends the process: no server of the stack outlives it.
    process.on('exit', () => this.servers.killAll());
  }

  /** Registers the workers' and the feed's shutdown: run before the servers stop. */
  set services(stop: () => Promise<void>) {
    this.#services = stop;
  }

  /** Ctrl-C and SIGTERM: the first stops in order and exits 130 (143); a second one ends everything now. */
  handleSignals(): void {
    onStopSignals(
      (signal) => {
        console.log('\nstopping... (Ctrl-C again ends everything at once)');
        void this.stop().then(() => process.exit(signalExitCode(signal)));
      },
      (signal, why) => {
        console.error(
          why === 'signal' ? 'stopping now' : `the stop took over ${STOP_DEADLINE_MS / 1000} s: ending now`,
        );
        this.servers.killAll();
        process.exit(signalExitCode(signal));
      },
    );
  }

  /**
   * Stops the services, then the servers (once: later calls join the first). Never rejects:
   * what failed is printed. Bounded: a stop still under way at the deadline ends everything.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const deadline = setTimeout(() => {
        console.error(`the stop took over ${STOP_DEADLINE_MS / 1000} s: ending now`);
        this.servers.killAll();
        process.exit(1);
      }, STOP_DEADLINE_MS);
      deadline.unref();
      const errors: string[] = [];
      try {
        await this.#services?.();
      } catch (err) {
        errors.push(`workers and feed: ${(err as Error).message}`);
      }
      errors.push(...(await this.servers.stopAll()));
      clearTimeout(deadline);
      if (errors.length) console.error(`while stopping: ${errors.join('; ')}`);
    })();
    return this.#stopping;
  }
}
