/** The change feed's and the SQL copy's settings: DATABASE_URL, POSTGRES_PORT, FEED_BATCH_*, RECONCILE_REPAIR. */
import { ConfigError } from '../shared/errors.js';
import { type Env, bool, int } from './env.js';

/** The change feed and the SQL copy (docs/change-feed.md): DATABASE_URL, FEED_*; the objects go to the landing bucket. */
export interface FeedConfig {
  /** DATABASE_URL: the PostgreSQL copy; the local stack starts its own when unset. */
  databaseUrl?: string;
  /** POSTGRES_PORT: the local stack's PostgreSQL (when DATABASE_URL is unset). */
  localPort: number;
  /** Firehose-like buffering: FEED_BATCH_MAX_EVENTS, FEED_BATCH_MAX_BYTES, FEED_BATCH_MAX_SECONDS. */
  settings: { maxEvents: number; maxBytes: number; maxSeconds: number; idleSeconds: number };
  /** RECONCILE_REPAIR: the scheduled reconcile repairs what it finds (default), or only reports it. */
  reconcileRepair: boolean;
}

/** Change-feed settings alone. */
export function loadFeedConfig(e: Env = process.env): FeedConfig {
  const databaseUrl = e.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl))
    throw new ConfigError('DATABASE_URL is not valid: expected postgres://user:password@host:port/database.');
  return {
    databaseUrl,
    localPort: int(e, 'POSTGRES_PORT', 5432, 1, 65535),
    settings: {
      maxEvents: int(e, 'FEED_BATCH_MAX_EVENTS', 500, 1, 10_000),
      maxBytes: int(e, 'FEED_BATCH_MAX_BYTES', 5 * 1024 * 1024, 1024, 128 * 1024 * 1024),
      maxSeconds: int(e, 'FEED_BATCH_MAX_SECONDS', 10, 1, 900),
      idleSeconds: 20,
    },
    reconcileRepair: bool(e, 'RECONCILE_REPAIR', true),
  };
}
