/**
 * What one page of a listing proves: the ids it held, good or set aside. A void or departure
 * check compares the stored items with these, so a record the vendor listed but that failed
 * validation still counts as listed, and a record whose id cannot be read at all makes the
 * whole listing no evidence (counted as unaccounted).
 */
import { idDigits } from '../shared/exact-json.js';
import type { SetAside } from '../store/index.js';

/** The key form of an id as a set-aside record carries it, or undefined when it cannot be read. */
function setAsideId(raw: unknown): string | undefined {
  const id = (raw as { id?: unknown } | null)?.id;
  const exact = idDigits(id);
  if (exact !== undefined) return exact;
  // A string of digits where a number belongs: the same id, as the key would hold it.
  if (typeof id === 'string' && /^\d+$/.test(id)) return id.replace(/^0+(?=\d)/, '');
  return undefined;
}

/** The ids a page held: the valid records' keys and the readable ids of those set aside. */
export function listedOf(
  goodIds: readonly string[],
  bad: readonly SetAside[],
): { ids: string[]; setAsideIds: string[]; unaccounted: number } {
  const setAsideIds: string[] = [];
  let unaccounted = 0;
  for (const b of bad) {
    const id = typeof b.raw === 'object' ? setAsideId(b.raw) : undefined;
    if (id === undefined) unaccounted++;
    else setAsideIds.push(id);
  }
  return { ids: [...new Set([...goodIds, ...setAsideIds])], setAsideIds, unaccounted };
}
