/**
 * A landed document as gzip bytes. Built the plain way (decode the body, compare it encoded
 * back, JSON.stringify the document, turn that into bytes) an answer cut at
 * VENDOR_MAX_ANSWER_BYTES was held four more times while it landed, and that garbage, two such
 * answers at once, was most of what a worker's peak showed (test/worker-memory.test.ts). Here
 * the body is checked as UTF-8 where it lies and escaped for JSON a slice at a time: a long body
 * goes into gzip's stream slice by slice (landing costs a slice, whatever the body), a short one
 * (an ordinary page) into one buffer and one gzip call, which the stream's machinery would
 * slow down by half.
 */
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip, gzip } from 'node:zlib';
import type { VendorAnswer } from '../vendor-api/client.js';
import type { AnswerCaller, LandedDocument, LandedRun } from './document.js';

const gzipAsync = promisify(gzip);

/** Bytes of the body escaped (or turned into base64: a multiple of 3, no padding inside) at a time. */
const SLICE = 3 * 16 * 1024;

/**
 * Longest body landed through one buffer: the buffer is garbage once gzipped (the body escaped,
 * up to six times its size for control bytes, or 4/3 in base64), so only ordinary pages go this
 * way, well below the least VENDOR_MAX_ANSWER_BYTES allows (1 MiB); longer bodies are streamed.
 */
const ONE_BUFFER = 512 * 1024;

/** How JSON writes each byte that must be escaped in a string (UTF-8 bytes from 0x80 up never are). */
const ESCAPES: (Buffer | undefined)[] = Array.from({ length: 256 }, (_, b) => {
  const short: Record<number, string> = {
    8: '\\b',
    9: '\\t',
    10: '\\n',
    12: '\\f',
    13: '\\r',
    34: '\\"',
    92: '\\\\',
  };
  if (short[b]) return Buffer.from(short[b]);
  return b < 0x20 ? Buffer.from(`\\u${b.toString(16).padStart(4, '0')}`) : undefined;
});
/** The bytes each byte takes once escaped. */
const ESCAPED_SIZE = Uint8Array.from(ESCAPES, (e) => e?.length ?? 1);

/**
 * The gzip bytes of the document landed for `answer` (format `vendor-answer/1`, document.ts):
 * the body as text (`body`) when it is valid UTF-8, a leading BOM kept, otherwise as base64
 * (`bodyBase64`); `truncated` when the body was cut at the limit.
 */
export async function encodeDocument(
  answer: VendorAnswer,
  run: LandedRun,
  window: LandedDocument['window'],
  caller: AnswerCaller,
): Promise<Buffer> {
  const rest: Omit<LandedDocument, 'body' | 'bodyBase64'> = {
    format: 'vendor-answer/1',
    request: answer.request,
    status: answer.status,
    headers: answer.headers,
    ...(answer.truncated ? { truncated: true as const } : {}),
    fetchedAt: answer.fetchedAt,
    run,
    window,
    caller,
  };
  const json = pieces(JSON.stringify(rest), answer.body);
  if (answer.body.length <= ONE_BUFFER) return gzipAsync(Buffer.concat([...json]));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(json, { objectMode: false }),
    createGzip(),
    async (gzipped: AsyncIterable<Buffer>) => {
      for await (const chunk of gzipped) out.push(chunk);
    },
  );
  return Buffer.concat(out);
}

/** The document's JSON in pieces: `rest` with the body's field added last, the body a slice at a time. */
function* pieces(rest: string, body: Uint8Array): Generator<Uint8Array> {
  const text = isUtf8(body);
  yield Buffer.from(`${rest.slice(0, -1)},"${text ? 'body' : 'bodyBase64'}":"`);
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  for (let at = 0; at < bytes.length; at += SLICE) {
    const slice = bytes.subarray(at, at + SLICE);
    yield text ? escaped(slice) : Buffer.from(slice.toString('base64'), 'latin1');
  }
  yield Buffer.from('"}');
}

/** UTF-8 bytes as the inside of a JSON string: quotes, backslashes and control bytes escaped. */
function escaped(slice: Buffer): Buffer {
  let size = 0;
  for (let i = 0; i < slice.length; i++) size += ESCAPED_SIZE[slice[i] as number] as number;
  if (size === slice.length) return slice;
  // Byte by byte in JS: a page holds thousands of quotes, and a native copy between each two
  // of them cost more than the whole landing did before.
  const out = Buffer.allocUnsafe(size);
  let n = 0;
  for (let i = 0; i < slice.length; i++) {
    const b = slice[i] as number;
    const esc = ESCAPES[b];
    if (esc === undefined) out[n++] = b;
    else for (let j = 0; j < esc.length; j++) out[n++] = esc[j] as number;
  }
  return out;
}
