/**
 * How a process of the sync stops (`npm run worker`, `npm run feed`, `npm start`): a stop that
 * always ends, in a bounded time. Workers stop polling at once; what they run gets a grace
 * period to finish, is then cancelled, and an activity that still does not end (stuck in a call
 * that ignores its cancellation) is left behind: its attempt times out on the server and is
 * retried elsewhere. A second signal ends the process at once. docs/failure-modes.md, "Stopping".
 */
import { GracefulShutdownPeriodExpiredError, type Worker } from '@temporalio/worker';

/** Time what a worker runs gets to finish after a stop is asked; then it is cancelled. */
export const SHUTDOWN_GRACE_MS = 5_000;
/** Time a cancelled activity gets to end after the grace period; then the worker is left. */
export const SHUTDOWN_CANCEL_MS = 10_000;
/** Longest a stop may take after its signal, whatever hangs (closing connections included). */
export const STOP_DEADLINE_MS = SHUTDOWN_GRACE_MS + SHUTDOWN_CANCEL_MS + 10_000;

/** The workers' shutdown options (Worker.create): the grace period, then the time to give up. */
export const WORKER_SHUTDOWN_OPTIONS = {
  shutdownGraceTime: SHUTDOWN_GRACE_MS,
  shutdownForceTime: SHUTDOWN_GRACE_MS + SHUTDOWN_CANCEL_MS,
} as const;

/** Asks a worker to stop unless it is stopping already (the SDK's own signal handler may have asked). */
export function shutdownWorker(worker: Worker): void {
  if (worker.getState() === 'RUNNING') worker.shutdown();
}

/**
 * How a worker's run ended: `drained` when everything it ran finished or accepted its
 * cancellation, `forced` when it was left with activities still running after
 * WORKER_SHUTDOWN_OPTIONS' force time (the SDK's GracefulShutdownPeriodExpiredError, or no end
 * at all within a second more after `stopAsked`). Any other failure is thrown.
 */
export async function workerEnded(run: Promise<void>, stopAsked: AbortSignal): Promise<'drained' | 'forced'> {
  const forceMs = WORKER_SHUTDOWN_OPTIONS.shutdownForceTime + 1_000;
  let timer: NodeJS.Timeout | undefined;
  let askedAt: number | undefined;
  const left = new Promise<'forced'>((resolve) => {
    const start = () => {
      askedAt = Date.now();
      timer = setTimeout(() => resolve('forced'), forceMs);
    };
    if (stopAsked.aborted) start();
    else stopAsked.addEventListener('abort', start, { once: true });
  });
  const ended = run.then(
    () => 'drained' as const,
    (err: unknown) => {
      if (err instanceof GracefulShutdownPeriodExpiredError) return 'forced' as const;
      // Past its force time the SDK's run may end with the error of its own cleanup instead
      // ("Worker still in use": the activity left running holds it).
      const late = askedAt !== undefined && Date.now() - askedAt >= WORKER_SHUTDOWN_OPTIONS.shutdownForceTime;
      if (late) return 'forced' as const;
      throw err;
    },
  );
  try {
    return await Promise.race([ended, left]);
  } finally {
    clearTimeout(timer);
  }
}

/** `p`, or `fallback` once `ms` have passed (a close that may hang on an unanswering server). */
export async function within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Calls `first` on the first SIGINT or SIGTERM and `again` on the next one. A deadline
 * (STOP_DEADLINE_MS) starts with the first: when it passes, `again` is called too.
 */
export function onStopSignals(
  first: (signal: NodeJS.Signals) => void,
  again: (signal: NodeJS.Signals, why: 'signal' | 'deadline') => void,
): void {
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (received) return again(signal, 'signal');
    received = signal;
    setTimeout(() => again(signal, 'deadline'), STOP_DEADLINE_MS).unref();
    first(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** The exit code of a process ended by `signal` (128 + its number: 130 for SIGINT, 143 for SIGTERM). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 130 : 143;
}
