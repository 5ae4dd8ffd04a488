/**
 * Salesperson child: pages through one salesperson's sales in the window. Each page is one
 * activity that fetches, validates and upserts; only the cursor and counts come back.
 */
import { continueAsNew, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { ListingEvidence } from './listing-evidence.js';
import { addCounts, emptyCounts } from '../shared/summary.js';
import { historyFull, stateActivities, vendorActivities } from './common.js';
import type { SalespersonSyncInput, SalespersonSyncOutput } from './types.js';

/** The void check (common.ts, stateActivities). */
const state = stateActivities();

/** Upper bound on pages of one list in one run: a runaway server cannot keep a run alive forever. */
export const MAX_PAGES_PER_LIST = 100_000;
/** Tokens remembered to detect a server that repeats a page token. */
const SEEN_TOKENS_KEPT = 1_000;

/** Syncs one salesperson's sales; with `input.voids`, marks the stored ones its complete listing no longer holds. */
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
  const evidence = new ListingEvidence(input.resume);
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
    if (input.voids) evidence.add(page);
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
        resume: { pageToken: token, seenTokens, partial: out, ...(input.voids ? evidence.carried() : {}) },
      });
    }
  }
  if (input.voids) await checkVoids(input, out, evidence);
  return out;
}

/** Compares the stored sales of the window with a complete listing (never a partial one). */
async function checkVoids(
  input: SalespersonSyncInput,
  out: SalespersonSyncOutput,
  evidence: ListingEvidence,
): Promise<void> {
  const skip = out.vanished ? 'salesperson gone' : out.pagingStop ? 'paging stopped' : evidence.skip();
  if (skip) {
    out.voidSkip = skip;
    return;
  }
  const voids = await state.checkVoids({
    employeeId: input.employeeId,
    window: input.window,
    listedIds: evidence.ids(),
    listedSince: evidence.since ?? '',
    guardPercent: input.voids?.guardPercent ?? 0,
    writer: { workflowId: workflowInfo().workflowId, runId: workflowInfo().runId },
  });
  out.voids = { ...voids, restored: evidence.restored };
}
