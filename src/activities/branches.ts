/** The branch activities: which branches a landed run asked for, one branch by name, and pages of all branches. */
import type { VendorRequest } from '../vendor-api/client.js';
import { type BranchRecord, idKey } from '../vendor-api/schemas.js';
import { validateRecords } from '../vendor-api/validate.js';
import { vendorRequests } from '../vendor-api/client.js';
import { replayLanding } from './answer.js';
import { alive, attemptSignal } from './attempt.js';
import { replayFailure } from './failures.js';
import { type PageAttempt, countsOf, fetchPage, pageAttempt, storeOptions, storedOnly } from './page.js';
import type { ActivityDeps } from './deps.js';
import type {
  Activities,
  LandedRun,
  ListBranchesPageInput,
  ListBranchesPageOutput,
  LookupBranchInput,
  LookupBranchOutput,
} from './types.js';

/** A page of branches: its answer read, validated, the ones `keep` accepts upserted, counted. */
async function syncBranches(
  at: PageAttempt,
  req: VendorRequest,
  keep: (b: BranchRecord) => boolean = () => true,
) {
  const page = await fetchPage(at, req);
  const { good, bad } = validateRecords('branch', page.records, page.request);
  const kept = good.filter(keep);
  const written = await at.deps.store.upsertBranches(kept, at.ctx, storeOptions(at.mode, page));
  const branches = await countsOf(at, 'branch', page, { bad, fetched: page.records.length, written });
  return { page, stored: storedOnly(kept, written), counts: { branches } };
}

/** The branch activities around their dependencies. */
export function branchActivities(
  deps: ActivityDeps,
): Pick<Activities, 'landedBranches' | 'lookupBranch' | 'listBranchesPage'> {
  return {
    /**
     * The branches a landed run asked for (replay without --branches): the names of its
     * `/branches?branch=NAME` answers, or `all` when it listed every branch.
     */
    landedBranches: (input: { run: LandedRun }): Promise<{ all: boolean; names: string[] }> =>
      alive(async () => {
        const landing = replayLanding(deps.landing);
        const requests = await landing.requestsOf('/branches', input.run, attemptSignal());
        if (requests.length === 0)
          throw replayFailure(
            `nothing landed for run ${input.run.workflowId} (${input.run.scope}): check the workflow ID and the window, or LANDING_BUCKET/LANDING_PREFIX`,
          );
        const names = requests.map((r) => r.params.branch).filter((n): n is string => n !== undefined);
        return { all: names.length < requests.length, names: [...new Set(names)].sort() };
      }),

    /** `/branches?branch=NAME`, then upserts the branch. */
    lookupBranch: (input: LookupBranchInput): Promise<LookupBranchOutput> =>
      alive(async () => {
        // The API filters by name; keep only exact matches in case a server does not.
        const { stored, counts } = await syncBranches(
          pageAttempt(deps, input),
          vendorRequests.branchByName(input.name),
          (b) => b.branch_name === input.name,
        );
        const [branch] = stored;
        return { branch: branch ? { id: idKey(branch.id), name: branch.branch_name } : null, counts };
      }),

    /** One page of `/branches` without a name (all branches), upserting them. */
    listBranchesPage: (input: ListBranchesPageInput): Promise<ListBranchesPageOutput> =>
      alive(async () => {
        const req = vendorRequests.allBranches({ pageSize: deps.pageSize, pageToken: input.pageToken });
        const { stored, counts, page } = await syncBranches(pageAttempt(deps, input), req);
        return {
          branches: stored.map((b) => ({ id: idKey(b.id), name: b.branch_name })),
          nextPageToken: page.nextPageToken,
          counts,
        };
      }),
  };
}
