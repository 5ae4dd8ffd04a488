/**
 * Salesperson child: pages through one salesperson's sales in the window. Each page is one
 * activity that fetches, validates and upserts; only the cursor and counts come back.
 */
import { continueAsNew, setCurrentDetails } from '@temporalio/workflow';
import { addCounts, emptyCounts } from '../shared/summary.js';
import { historyFull, vendorActivities } from './common.js';
import type { SalespersonSyncInput, SalespersonSyncOutput } from './types.js';

/** Upper bound on pages of one list in one run: a runaway server cannot keep a run alive forever. */
export const MAX_PAGES_PER_LIST = 100_000;
/** Tokens remembered to detect a server that repeats a page token. */
const SEEN_TOKENS_KEPT = 1_000;

/** Syncs one salesperson's sales. */
export async function salespersonSyncWorkflow(input: SalespersonSyncInput): Promise<SalespersonSyncOutput> {
  const acts = vendorActivities(input.vendorTaskQueue);
  const out: SalespersonSyncOutput = input.resume?.partial ?? {
    pages: 0,
    counts: emptyCounts(),
    pagingStop: null,
  };
  const seen = new Set<string>(input.resume?.seenTokens ?? []);
  let token: string | null = input.resume?.pageToken ?? null;
  const list = `sales of salesperson ${input.employeeId}`;
  for (;;) {
    const page = await acts.syncSalesPage({
      landing: input.landing,
      employeeId: input.employeeId,
      branchId: input.branchId,
      window: input.window,
      pageToken: token,
    });
    out.pages++;
    addCounts(out.counts, page.counts);
    if (page.vanished) {
      out.vanished = true;
      break;
    }
    setCurrentDetails(`${out.pages} pages, ${out.counts.sales.fetched} sales`);
    token = page.nextPageToken;
    if (token === null) break;
    if (seen.has(token)) {
      out.pagingStop = {
        list,
        reason: `the vendor repeated page token ${JSON.stringify(token)}; stopped paging after ${out.pages} pages`,
      };
      break;
    }
    if (out.pages >= MAX_PAGES_PER_LIST) {
      out.pagingStop = { list, reason: `more than ${MAX_PAGES_PER_LIST} pages; stopped paging` };
      break;
    }
    seen.add(token);
    if (historyFull(input.historyBudget)) {
      const seenTokens = [...seen].slice(-SEEN_TOKENS_KEPT);
      await continueAsNew<typeof salespersonSyncWorkflow>({
        ...input,
        resume: { pageToken: token, seenTokens, partial: out },
      });
    }
  }
  return out;
}
