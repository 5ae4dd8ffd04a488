/**
 * Task-queue names. Workflows run on one queue; every activity that makes a vendor
 * request runs on its own queue, whose server-side rate limit
 * (`maxTaskQueueActivitiesPerSecond`) is the vendor's quota, so the quota holds across
 * any number of workers.
 */
const DEFAULT_WORKFLOW_TASK_QUEUE = 'sales-sync-workflows';
export const DEFAULT_VENDOR_TASK_QUEUE = 'sales-sync-vendor';

/** The pair of queues one deployment uses (tests use fresh ones per test). */
export interface TaskQueues {
  workflows: string;
  vendor: string;
}

/** Default names, or names with a suffix (tests, parallel environments). */
export function taskQueues(suffix = ''): TaskQueues {
  return { workflows: DEFAULT_WORKFLOW_TASK_QUEUE + suffix, vendor: DEFAULT_VENDOR_TASK_QUEUE + suffix };
}

/** Prefix of the change feed's task queue (its workflows, the reconcile, and their activities). */
export const FEED_TASK_QUEUE_PREFIX = 'sales-sync-feed';

/** The change feed's task queue, with the deployment's suffix. */
export function feedTaskQueue(suffix = ''): string {
  return FEED_TASK_QUEUE_PREFIX + suffix;
}

/** The change feed's task queue of the deployment whose workflow task queue is `workflowQueue` (same suffix). */
export function feedQueueFor(workflowQueue: string): string {
  const suffix = workflowQueue.startsWith(DEFAULT_WORKFLOW_TASK_QUEUE)
    ? workflowQueue.slice(DEFAULT_WORKFLOW_TASK_QUEUE.length)
    : '';
  return feedTaskQueue(suffix);
}
