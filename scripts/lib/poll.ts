/**
 * Polling until something holds: used by the local stack (a port that listens, a URL that
 * answers 200) and by the tests (a worker that polls, a port released, requests made).
 */

/**
 * Polls `fn` every `intervalMs` until it returns a value other than undefined, and resolves
 * with that value; an error `fn` throws ends the wait. After `timeoutMs` rejects with
 * `timed out after <timeoutMs> ms waiting for <what>`, or with the message `onTimeout` gives.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  fn: () => T | undefined | Promise<T | undefined>,
  intervalMs = 100,
  onTimeout?: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(onTimeout ? onTimeout() : `timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
