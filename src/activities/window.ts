/** The sales window as the activities apply it to what the vendor sent. */
import { parseVendorTimestamp } from '../vendor-api/schemas.js';

/**
 * Drops sales whose timestamp is readable and outside the window, before validation: a
 * server that ignores from/to must not make an old malformed sale be set aside (and
 * notified) every hour. A sale whose timestamp cannot be read stays, and is judged.
 */
export function inWindowOnly(records: unknown[], window: { from: string; to: string }): unknown[] {
  const from = parseVendorTimestamp(window.from) ?? -Infinity;
  const to = parseVendorTimestamp(window.to) ?? Infinity;
  return records.filter((r) => {
    const ts = (r as { transaction_timestamp?: unknown } | null)?.transaction_timestamp;
    const ms = typeof ts === 'string' ? parseVendorTimestamp(ts) : undefined;
    return ms === undefined || (ms >= from && ms < to);
  });
}
