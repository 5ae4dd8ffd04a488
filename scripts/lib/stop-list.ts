/**
 * Everything a program or a test started, stopped in reverse order: the benchmark's stack
 * and workers, and each process-fault test's servers, workers and files.
 */

/**
 * Steps to undo, undone last-added first. Every step runs even when an earlier one fails;
 * the failures are returned together. A `stopAll()` while one is under way joins it (a
 * signal handler and a `finally` may both ask), and each step runs once.
 */
export class StopList {
  #steps: { what: string; fn: () => unknown }[] = [];
  #running: Promise<string[]> | undefined;

  /** Registers a step; `what` names it in the failures. */
  add(what: string, fn: () => unknown): void {
    this.#steps.push({ what, fn });
  }

  /** Runs the steps registered so far in reverse order; resolves with `what: message` per failed step. */
  stopAll(): Promise<string[]> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #run(): Promise<string[]> {
    const errors: string[] = [];
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      try {
        await step.fn();
      } catch (err) {
        errors.push(`${step.what}: ${(err as Error).message}`);
      }
    }
    return errors;
  }
}
