/**
 * Payloads in the proto3 JSON form the codec server protocol uses: every `bytes` field (the
 * data and each metadata value) is a base64 string, e.g.
 *   { "metadata": { "encoding": "YmluYXJ5L2VuY3J5cHRlZA==" }, "data": "..." }
 */
import type { Payload } from '@temporalio/common';

/** A Payload as proto3 JSON. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** A request body that is not `{"payloads": [...]}` of JSON payloads. */
export class PayloadJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadJsonError';
  }
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function bytesFromBase64(value: unknown, where: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value))
    throw new PayloadJsonError(`${where} must be a base64 string`);
  return Buffer.from(value, 'base64');
}

export function payloadToJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload.metadata ?? {}))
    metadata[k] = Buffer.from(v).toString('base64');
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

export function payloadFromJson(value: unknown, where = 'payload'): Payload {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new PayloadJsonError(`${where} must be an object with metadata and data`);
  const { metadata, data } = value as { metadata?: unknown; data?: unknown };
  const out: Record<string, Uint8Array> = {};
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata))
      throw new PayloadJsonError(`${where}.metadata must be an object of base64 strings`);
    for (const [k, v] of Object.entries(metadata)) out[k] = bytesFromBase64(v, `${where}.metadata.${k}`);
  }
  return {
    metadata: out,
    data: data === undefined || data === null ? new Uint8Array() : bytesFromBase64(data, `${where}.data`),
  };
}

/** Parses a codec server request body: `{"payloads": [...]}`. */
export function payloadsFromJsonBody(body: string): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new PayloadJsonError('the body is not JSON: expected {"payloads": [...]}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new PayloadJsonError('the body must be a JSON object: expected {"payloads": [...]}');
  const payloads = (parsed as { payloads?: unknown }).payloads;
  if (payloads === undefined || payloads === null) return [];
  if (!Array.isArray(payloads)) throw new PayloadJsonError('"payloads" must be an array');
  return payloads.map((p, i) => payloadFromJson(p, `payloads[${i}]`));
}
