/** The 13 branches the original pipeline synced: the default branch list of a run. */
export const DEFAULT_BRANCHES: readonly string[] = [
  'Scranton',
  'Akron',
  'Buffalo',
  'Rochester',
  'Syracuse',
  'Utica',
  'Binghamton',
  'Albany',
  'Nashua',
  'Pittsfield',
  'Stamford',
  'Yonkers',
  'New York',
];
