/**
 * The workflow types' names as Temporal knows them: each is its function's name in
 * src/workflows/. Code below the workflows (metrics, the CLI's visibility queries) names a
 * workflow type through these, never by importing the workflow (test/shared-helpers.test.ts
 * checks that each is its function's name).
 */
export const WORKFLOW_TYPES = {
  salesSync: 'salesSyncWorkflow',
  branchSync: 'branchSyncWorkflow',
  salespersonSync: 'salespersonSyncWorkflow',
  changeFeed: 'changeFeedWorkflow',
} as const;
