/**
 * Whose fault a PostgreSQL error is, by its SQLSTATE class. The connection's and the server's
 * availability (no SQLSTATE at all: the network; 08 connection, 53 resources, 57 operator
 * intervention such as a shutdown or a cancelled statement, 58 system, 40 serialization failure
 * or deadlock) fail the attempt, so Temporal retries it until the server is back. Anything else
 * is taken as the event's: a value error (22 data, 23 integrity, 54 a limit such as an index row
 * too large) fails the same way every time and sets the event aside at once; another class (42,
 * 55, XX, ...) is given a few attempts first (MAX_EVENT_ATTEMPTS).
 */

/** SQLSTATE classes that say the connection or the server, not the event, failed. */
const CONNECTION_CLASSES = new Set(['08', '40', '53', '57', '58']);
/** SQLSTATE classes that say the event's values cannot be stored (the same every time). */
const VALUE_CLASSES = new Set(['22', '23', '54']);

/** Attempts an event gets for an error of another class before it is set aside. */
export const MAX_EVENT_ATTEMPTS = 3;

/** The SQLSTATE of a PostgreSQL error, or undefined (a network error, or not PostgreSQL's). */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** How to treat an error of applying one event. */
export type ErrorVerdict = 'retry' | 'value' | 'event';

/** `retry`: fail the attempt; `value`: set the event aside now; `event`: set it aside after MAX_EVENT_ATTEMPTS. */
export function classify(err: unknown): ErrorVerdict {
  const state = sqlState(err);
  if (!state || CONNECTION_CLASSES.has(state.slice(0, 2))) return 'retry';
  return VALUE_CLASSES.has(state.slice(0, 2)) ? 'value' : 'event';
}
