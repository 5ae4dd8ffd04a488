/**
 * What the simulator decides to answer a request with, before latency and faults are
 * applied: a list of records (ListAnswer) or an error (PlainAnswer). Shared by the
 * routes, the paging and the fault injection.
 */
import type { RecordKind } from '../vendor-api/schemas.js';

export const API_PATHS = ['/branches', '/employees', '/sales'] as const;
export type ApiPath = (typeof API_PATHS)[number];

export type JsonRecord = Record<string, unknown> & { id: number };

export interface Paging {
  sentToken: string | undefined;
  firstToken: string;
  nextToken: string | null;
}

/** A successful list answer, before faults are applied. */
export interface ListAnswer {
  kind: 'list';
  path: ApiPath;
  query: string;
  recordKind: RecordKind;
  records: JsonRecord[];
  wrap: (records: unknown[]) => Record<string, unknown>;
  paging: Paging | undefined;
}

/** Any other answer (errors), sent as JSON. */
export interface PlainAnswer {
  kind: 'plain';
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Answer = ListAnswer | PlainAnswer;

export function error(status: number, message: string, headers?: Record<string, string>): PlainAnswer {
  return { kind: 'plain', status, body: { error: message }, ...(headers ? { headers } : {}) };
}

/** Quotes a client-supplied value for an error message, shortened so that a huge parameter cannot bloat it. */
export function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}
