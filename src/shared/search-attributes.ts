/**
 * Custom search attributes set on every run, so the Web UI can filter by branch and window
 * (e.g. `SyncBranch = "Scranton"`). They are registered on the dev server at start
 * (`--search-attribute`) and must be registered once on a cluster or Temporal Cloud
 * namespace (README, "Operations").
 */
import { defineSearchAttributeKey } from '@temporalio/common';

export const SYNC_BRANCH = defineSearchAttributeKey('SyncBranch', 'KEYWORD');
export const SYNC_WINDOW_END = defineSearchAttributeKey('SyncWindowEnd', 'DATETIME');
export const SYNC_KIND = defineSearchAttributeKey('SyncKind', 'KEYWORD');

/** Name -> type of the custom search attributes, as the CLI and operator service spell them. */
export const CUSTOM_SEARCH_ATTRIBUTES = {
  SyncBranch: 'Keyword',
  SyncWindowEnd: 'Datetime',
  SyncKind: 'Keyword',
} as const;

/** Set by Temporal on runs started by a schedule: the time the run was scheduled for. */
export const TEMPORAL_SCHEDULED_START_TIME = defineSearchAttributeKey(
  'TemporalScheduledStartTime',
  'DATETIME',
);
