/**
 * Reads an answer's body with a bound on its size after decompression, so what one answer
 * costs a worker never depends on the vendor: a gzip bomb (a megabyte on the wire, a gigabyte
 * inside) or a page of 40 MB is read up to the limit and no further, and the request is
 * aborted there. fetch undoes the Content-Encoding as the body is pulled, so nothing past the
 * limit is ever inflated.
 */

/** The bounds of VENDOR_MAX_ANSWER_BYTES (src/shared/answer-limits.ts: configuration reads them too). */
export {
  DEFAULT_MAX_ANSWER_BYTES,
  MAX_MAX_ANSWER_BYTES,
  MIN_MAX_ANSWER_BYTES,
} from '../shared/answer-limits.js';

/** A body read up to a limit. */
export interface BoundedBody {
  body: Uint8Array;
  /** The body went on past the limit: `body` is its first `limit` bytes, the rest was never read. */
  truncated: boolean;
}

/**
 * The body of `res`, at most `limit` bytes of it after decompression. Past the limit the
 * stream is cancelled, which aborts the request (the connection is closed, the decompression
 * stops), and what was read comes back marked truncated. The bytes go into one buffer sized
 * by Content-Length when the body is not encoded (one copy, as `arrayBuffer()` makes), grown
 * by doubling otherwise, never past the limit: an answer costs at most 1.5 times its size.
 */
export async function readBounded(res: Response, limit: number): Promise<BoundedBody> {
  if (!res.body) return { body: new Uint8Array(0), truncated: false };
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const declared = res.headers.has('content-encoding') ? NaN : Number(res.headers.get('content-length'));
  let buf: Uint8Array = new Uint8Array(
    Math.min(limit, Number.isSafeInteger(declared) ? declared : 64 * 1024),
  );
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { body: length === buf.length ? buf : buf.subarray(0, length), truncated: false };
    const fits = Math.min(value.byteLength, limit - length);
    if (length + fits > buf.length)
      buf = grown(buf, length, Math.min(limit, Math.max(2 * buf.length, length + fits)));
    buf.set(fits === value.byteLength ? value : value.subarray(0, fits), length);
    length += fits;
    if (fits < value.byteLength) {
      await reader.cancel().catch(() => undefined);
      return { body: buf, truncated: true };
    }
  }
}

/** A buffer of `size` bytes holding the first `length` bytes of `buf`. */
function grown(buf: Uint8Array, length: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(buf.subarray(0, length));
  return out;
}
