/** One worker process: its workflow cache, its log level and its task queues' suffix. */
import { ConfigError } from '../shared/errors.js';
import { type Env, int } from './env.js';

/** Default WORKER_MAX_CACHED_WORKFLOWS. */
export const DEFAULT_MAX_CACHED_WORKFLOWS = 250;

/** One worker process. */
export interface WorkerConfig {
  /**
   * Workflow runs kept in memory between tasks (WORKER_MAX_CACHED_WORKFLOWS). The SDK's
   * default grows with the V8 heap limit (about 2,300 on a 24 GB host), which lets the
   * resident set grow far past what the work needs; a run has at most
   * branch concurrency x (salesperson concurrency + 1) + 1 workflows open (69 by default).
   */
  maxCachedWorkflows: number;
  /** WORKER_LOG_LEVEL: how much the Temporal runtime logs. */
  logLevel: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/** Levels WORKER_LOG_LEVEL takes (the Temporal runtime's). */
const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

/** WORKER_LOG_LEVEL: how much the Temporal runtime logs (default WARN). */
export function loadLogLevel(e: Env = process.env): (typeof LOG_LEVELS)[number] {
  const raw = e.WORKER_LOG_LEVEL?.trim();
  if (!raw) return 'WARN';
  const level = LOG_LEVELS.find((l) => l === raw.toUpperCase());
  if (!level)
    throw new ConfigError(
      `WORKER_LOG_LEVEL=${JSON.stringify(raw)} is not valid: expected one of ${LOG_LEVELS.join(', ')}.`,
    );
  return level;
}

/** TASK_QUEUE_SUFFIX: a suffix of both task queues, to run parallel environments in one namespace. */
export function loadTaskQueueSuffix(e: Env = process.env): string {
  return e.TASK_QUEUE_SUFFIX?.trim() ?? '';
}

/** WORKER_MAX_CACHED_WORKFLOWS and WORKER_LOG_LEVEL. */
export function loadWorkerConfig(e: Env = process.env): WorkerConfig {
  return {
    maxCachedWorkflows: int(e, 'WORKER_MAX_CACHED_WORKFLOWS', DEFAULT_MAX_CACHED_WORKFLOWS, 2, 100_000),
    logLevel: loadLogLevel(e),
  };
}
