/**
 * What a salesperson's listing proves so far: the ids it held, whether every page reported its
 * evidence, and when it began. Carried across continue-as-new; deterministic code only.
 */
import type { SyncSalesPageOutput } from '../activities/types.js';
import { VOID_CHECK_MAX_LISTED, type VoidSkip } from '../shared/completeness.js';
import type { SalespersonSyncInput } from './types.js';

/** The evidence of one listing, page by page. */
export class ListingEvidence {
  /** Null once more ids were listed than a void check takes. */
  private listed: Set<string> | null;
  private unaccounted: number;
  /** A page came from a worker that does not report its evidence. */
  private unreported = false;
  since: string | undefined;
  restored = 0;

  constructor(resume: SalespersonSyncInput['resume']) {
    this.listed = resume?.listedIds === null ? null : new Set(resume?.listedIds ?? []);
    this.unaccounted = resume?.unaccounted ?? 0;
    this.since = resume?.listedSince;
    this.restored = resume?.restored ?? 0;
    this.unreported = resume?.unreported === true;
  }

  /** Adds one page. */
  add(page: SyncSalesPageOutput): void {
    if (page.fetchedAt === undefined || page.listedIds === undefined) this.unreported = true;
    this.since ??= page.fetchedAt;
    this.unaccounted += page.unaccounted ?? 0;
    this.restored += page.restored ?? 0;
    if (this.listed) {
      for (const id of page.listedIds ?? []) this.listed.add(id);
      if (this.listed.size > VOID_CHECK_MAX_LISTED) this.listed = null;
    }
  }

  /** Why this listing is no evidence of voids, or undefined when it is. */
  skip(): VoidSkip | undefined {
    if (this.unreported || this.since === undefined) return 'pages without evidence';
    if (this.unaccounted > 0) return 'records without a readable id were set aside';
    if (this.listed === null) return 'listing too large';
    return undefined;
  }

  /** The listed ids. */
  ids(): string[] {
    return [...(this.listed ?? [])];
  }

  /** What the next run of the chain continues from. */
  carried(): {
    listedIds: string[] | null;
    unaccounted: number;
    restored: number;
    unreported: boolean;
    listedSince?: string;
  } {
    return {
      listedIds: this.listed ? [...this.listed] : null,
      unaccounted: this.unaccounted,
      restored: this.restored,
      unreported: this.unreported,
      ...(this.since !== undefined ? { listedSince: this.since } : {}),
    };
  }
}
