/** The employee activity: one page of a branch's employees, of which only salespersons are synced. */
import { vendorRequests } from '../vendor-api/client.js';
import { type EmployeeRecord, idKey } from '../vendor-api/schemas.js';
import { validateRecords } from '../vendor-api/validate.js';
import type { StateStore } from '../store/state.js';
import { alive, attemptSignal } from './attempt.js';
import { listedOf } from './listing.js';
import { countsOf, fetchPage, pageAttempt, storeOptions } from './page.js';
import type { ActivityDeps } from './deps.js';
import type { Activities, SyncEmployeesPageInput, SyncEmployeesPageOutput } from './types.js';

/** Those of `ids` whose whole history was never read. */
async function firstSight(state: StateStore, ids: string[]): Promise<string[]> {
  const loaded = await state.loadedSalespersons(ids, attemptSignal());
  return ids.filter((id) => !loaded.has(id));
}

/** The employee activities around their dependencies. */
export function employeeActivities(deps: ActivityDeps): Pick<Activities, 'syncEmployeesPage'> {
  return {
    /** One page of a branch's employees; upserts the salespersons and returns their ids. */
    syncEmployeesPage: (input: SyncEmployeesPageInput): Promise<SyncEmployeesPageOutput> =>
      alive(async () => {
        const at = pageAttempt(deps, input);
        const req = vendorRequests.employees(input.branchId, {
          pageSize: deps.pageSize,
          pageToken: input.pageToken,
        });
        const page = await fetchPage(at, req);
        const { good, bad } = validateRecords('employee', page.records, page.request);
        const salespersons: EmployeeRecord[] = good.filter((e) => e.occupation === 'salesperson');
        const written = await deps.store.upsertSalespersons(
          salespersons,
          input.branchId,
          at.ctx,
          storeOptions(at.mode, page),
        );
        // Only salespersons are synced: other employees count neither as fetched nor as unchanged.
        const fetched = salespersons.length + bad.length;
        const counts = await countsOf(at, 'employee', page, { bad, fetched, written });
        // A salesperson whose item could not be stored is still synced further: its sales are good records.
        const ids = salespersons.map((s) => idKey(s.id));
        const listed = listedOf([], bad);
        return {
          salespersonIds: ids,
          nextPageToken: page.nextPageToken,
          counts: { salespersons: counts },
          setAsideIds: listed.setAsideIds,
          unaccounted: listed.unaccounted,
          fetchedAt: page.fetchedAt,
          // A replay reads an old listing: who is new is a question for live runs only.
          ...(!at.mode.replay ? { firstSightIds: await firstSight(deps.state, ids) } : {}),
        };
      }),
  };
}
