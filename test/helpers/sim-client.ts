/**
 * Talking to the vendor simulator in its own tests (test/sim-*.test.ts): starting one per
 * test with fixed data, plain requests, reading the three envelopes, following pages.
 */
import assert from 'node:assert/strict';
import type { Dataset, SimOptions } from '../../src/sim/index.js';
import { VendorSimulator } from '../../src/sim/index.js';

export const KEY = 'sim-key';
/** A fixed anchor so that generated data does not depend on the wall clock. */
export const ANCHOR = Date.UTC(2024, 0, 15, 12);
export const HOUR = 3_600_000;

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** Looks up a nested field of parsed JSON without `any`. */
export function field(value: unknown, ...path: (string | number)[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

export async function get(
  sim: VendorSimulator,
  pathAndQuery: string,
  key: string | null = KEY,
): Promise<Reply> {
  const headers: Record<string, string> = key === null ? {} : { 'x-api-key': key };
  const res = await fetch(`${sim.url}${pathAndQuery}`, { headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** The record list of any of the three envelopes. */
export function listOf(path: string, json: unknown): unknown[] {
  const list =
    path === '/branches'
      ? field(json, 'result')
      : path === '/employees'
        ? field(json, 'result', 'employees')
        : field(json, 'result', 'sales');
  assert.ok(Array.isArray(list), `no record list in ${JSON.stringify(json)}`);
  return list as unknown[];
}

/** Follows next_page_token to the end; fails on a loop. */
export async function fetchAllPages(
  sim: VendorSimulator,
  path: string,
  query: string,
  pageSize: number,
): Promise<unknown[]> {
  const records: unknown[] = [];
  let token: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const tokenPart: string = token === null ? '' : `&page_token=${encodeURIComponent(token)}`;
    const reply = await get(sim, `${path}?${query}&page_size=${pageSize}${tokenPart}`);
    assert.equal(reply.status, 200, reply.text);
    const list = listOf(path, reply.json);
    assert.ok(list.length <= pageSize);
    records.push(...list);
    const next = field(reply.json, 'next_page_token');
    assert.ok(next === null || typeof next === 'string');
    if (next === null) return records;
    assert.notEqual(next, token, 'token repeated');
    token = next;
  }
  assert.fail('pagination did not end');
}

/**
 * Registers, in the calling suite, an afterEach that stops every simulator started in a
 * test, and returns `start`: a simulator on a free port with fixed data and no quota
 * unless the test says otherwise.
 */
export function useSimulators(): (options?: Partial<SimOptions>) => Promise<VendorSimulator> {
  const running: VendorSimulator[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  return async (options = {}) => {
    const sim = await VendorSimulator.start({ port: 0, anchorTime: ANCHOR, quota: 0, ...options });
    running.push(sim);
    return sim;
  };
}

export function someSalesperson(ds: Dataset): number {
  const first = ds.salespersonsOf(ds.branches[0]?.id ?? -1)[0];
  assert.ok(first, 'no salesperson in the first branch');
  return first.id;
}
