/** The sales activity: one page of a salesperson's sales in the run's window. */
import { vendorRequests } from '../vendor-api/client.js';
import { formatVendorTimestamp, idKey } from '../vendor-api/schemas.js';
import { validateRecords } from '../vendor-api/validate.js';
import { alive } from './attempt.js';
import { hasLanded } from './answer.js';
import { type PageAttempt, countsOf, fetchPage, pageAttempt, storeOptions } from './page.js';
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

/**
 * The window to read under: the input's, except in a replay of a salesperson its run saw for the
 * first time, which read every sale: then the answers landed without a window are the ones.
 */
async function replayedWindow(
  deps: ActivityDeps,
  at: PageAttempt,
  input: SyncSalesPageInput,
): Promise<SyncWindow | null> {
  if (!at.mode.replay || input.window === null) return input.window;
  const page = { pageSize: deps.pageSize, pageToken: input.pageToken };
  const windowed = vendorRequests.sales(input.employeeId, vendorWindow(input.window), page);
  if (await hasLanded(deps.landing, windowed, at.mode)) return input.window;
  const whole = vendorRequests.sales(input.employeeId, null, page);
  return (await hasLanded(deps.landing, whole, at.mode)) ? null : input.window;
}

/** The sales activities around their dependencies. */
export function salesActivities(deps: ActivityDeps): Pick<Activities, 'syncSalesPage'> {
  return {
    /** One page of a salesperson's sales in the window; filters, validates, upserts. */
    syncSalesPage: (input: SyncSalesPageInput): Promise<SyncSalesPageOutput> =>
      alive(async () => {
        const at = pageAttempt(deps, input);
        const asked = await replayedWindow(deps, at, input);
        const window = vendorWindow(asked);
        const req = vendorRequests.sales(input.employeeId, window, {
          pageSize: deps.pageSize,
          pageToken: input.pageToken,
        });
        const page = await fetchPage(at, req, asked, 'null');
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
