/**
 * One landed object's document (format `vendor-answer/1`): what is kept of an answer, and the
 * answer read back from it with the body's bytes exactly as received.
 */
import type { LandedRun } from '../shared/landed-run.js';
import type { VendorAnswer, VendorRequest } from '../vendor-api/client.js';

/** A run's place in the landing zone (src/shared/landed-run.ts). */
export type { LandedRun } from '../shared/landed-run.js';

/** Who asked: the workflow whose activity made the request, the activity (unique in that run) and the attempt. */
export interface AnswerCaller {
  workflowId: string;
  runId: string;
  activityId: string;
  attempt: number;
}

/** One landed object as stored (format `vendor-answer/1`). */
export interface LandedDocument {
  format: 'vendor-answer/1';
  request: VendorRequest;
  status: number;
  headers: Record<string, string>;
  /** The body as text when it is valid UTF-8 (a leading BOM kept as U+FEFF) ... */
  body?: string;
  /** ... otherwise its bytes in base64. */
  bodyBase64?: string;
  /** The body went past VENDOR_MAX_ANSWER_BYTES: only its first bytes were read and are kept. */
  truncated?: true;
  fetchedAt: string;
  run: LandedRun;
  window: { from: string; to: string } | null;
  caller: AnswerCaller;
}

/** An answer read back from the landing zone, with the key it was read from. */
export interface LandedAnswer extends VendorAnswer {
  key: string;
  /** The window the run read under when it asked (a branch's own, widened or whole, included). */
  window: LandedDocument['window'];
}

/** The answer a document holds, its body the bytes received. */
export function toAnswer(doc: LandedDocument, key: string): LandedAnswer {
  const body =
    doc.body !== undefined ? Buffer.from(doc.body, 'utf8') : Buffer.from(doc.bodyBase64 ?? '', 'base64');
  return {
    request: doc.request,
    status: doc.status,
    headers: doc.headers,
    body: new Uint8Array(body),
    ...(doc.truncated ? { truncated: true as const } : {}),
    fetchedAt: doc.fetchedAt,
    key,
    window: doc.window ?? null,
  };
}
