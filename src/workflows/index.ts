/** The workflows the worker registers (its workflowsPath points here). */
export { salesSyncWorkflow, progressQuery } from './sales-sync.js';
export { branchSyncWorkflow } from './branch-sync.js';
export { salespersonSyncWorkflow } from './salesperson-sync.js';
export { changeFeedWorkflow, feedStatusQuery } from './change-feed.js';
export { reconcileWorkflow } from './reconcile.js';
export { recordSyncRunWorkflow } from './sync-run.js';
