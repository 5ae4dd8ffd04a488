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

/** The change feed's task queue (its workflows, the reconcile, and their activities), with the deployment's suffix. */
export function feedTaskQueue(suffix = ''): string {
  return `sales-sync-feed${suffix}`;
}
