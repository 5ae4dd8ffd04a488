/** The sales activity: one page of a salesperson's sales in the run's window. */
import { vendorRequests } from '../vendor-api/client.js';
import { formatVendorTimestamp, idKey } from '../vendor-api/schemas.js';
import { validateRecords } from '../vendor-api/validate.js';
import { alive } from './attempt.js';
import { countsOf, fetchPage, pageAttempt, storeOptions } from './page.js';
import type { ActivityDeps } from './deps.js';
import type { Activities, SyncSalesPageInput, SyncSalesPageOutput, SyncWindow } from './types.js';
import { inWindowOnly } from './window.js';
import { listedOf } from './listing.js';

/** The window in the vendor's own timestamp form, as it is asked. */
function vendorWindow(window: SyncWindow | null): SyncWindow | null {
  return window
    ? {
        from: formatVendorTimestamp(Date.parse(window.from)),
        to: formatVendorTimestamp(Date.parse(window.to)),
      }
    : null;
}

/** The sales activities around their dependencies. */
export function salesActivities(deps: ActivityDeps): Pick<Activities, 'syncSalesPage'> {
  return {
    /** One page of a salesperson's sales in the window; filters, validates, upserts. */
    syncSalesPage: (input: SyncSalesPageInput): Promise<SyncSalesPageOutput> =>
      alive(async () => {
        const at = pageAttempt(deps, input);
        const window = vendorWindow(input.window);
        const req = vendorRequests.sales(input.employeeId, window, {
          pageSize: deps.pageSize,
          pageToken: input.pageToken,
        });
        const page = await fetchPage(at, req, input.window, 'null');
        if (!page) return { nextPageToken: null, counts: {}, vanished: true };
        // A server may ignore from/to: drop what is outside the window before judging it.
        const records = window ? inWindowOnly(page.records, window) : page.records;
        const { good, bad } = validateRecords('sale', records, page.request);
        const written = await deps.store.upsertSales(
          good,
          input.employeeId,
          input.branchId,
          at.ctx,
          storeOptions(at.mode, page),
        );
        const sales = await countsOf(at, 'sale', page, { bad, fetched: records.length, written });
        const listed = listedOf(
          good.map((r) => idKey(r.id)),
          bad,
        );
        return {
          nextPageToken: page.nextPageToken,
          counts: { sales },
          listedIds: listed.ids,
          unaccounted: listed.unaccounted,
          restored: written.restored,
          fetchedAt: page.fetchedAt,
        };
      }),
  };
}
