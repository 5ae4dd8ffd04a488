/**
 * Everything a program or a test started, stopped in reverse order: the benchmark's stack
 * and workers, `npm start`'s servers, and each process-fault test's servers, workers and files.
 */

/**
 * Steps to undo, undone last-added first. Every step runs even when an earlier one fails;
 * the failures are returned together. A `stopAll()` while one is under way joins it (a
 * signal handler and a `finally` may both ask), and each step runs once. A step may have a
 * `kill` too: what `killAll()` does instead when there is no time to stop in order.
 */
export class StopList {
  #steps: { what: string; fn: () => unknown; kill?: () => void }[] = [];
  #running: Promise<string[]> | undefined;
  #current: { kill?: () => void } | undefined;

  /** Registers a step; `what` names it in the failures; `kill` ends it at once, synchronously. */
  add(what: string, fn: () => unknown, kill?: () => void): void {
    this.#steps.push({ what, fn, ...(kill ? { kill } : {}) });
  }

  /** Runs the steps registered so far in reverse order; resolves with `what: message` per failed step. */
  stopAll(): Promise<string[]> {
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Ends at once, synchronously, what is left (the step under way included): each step's
   * `kill`, last-added first. For a second Ctrl-C, a deadline, or the process's exit.
   */
  killAll(): void {
    const left = [...(this.#current ? [this.#current] : []), ...this.#steps.reverse()];
    this.#steps = [];
    for (const step of left)
      try {
        step.kill?.();
      } catch {
        // Gone already.
      }
  }

  async #run(): Promise<string[]> {
    const errors: string[] = [];
    for (let step = this.#steps.pop(); step; step = this.#steps.pop()) {
      this.#current = step;
      try {
        await step.fn();
      } catch (err) {
        errors.push(`${step.what}: ${(err as Error).message}`);
      } finally {
        this.#current = undefined;
      }
    }
    return errors;
  }
}
