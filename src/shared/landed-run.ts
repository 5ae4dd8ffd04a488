/** Where a run's answers land: its window scope and the parent workflow's ID. */
export interface LandedRun {
  scope: string;
  workflowId: string;
}
