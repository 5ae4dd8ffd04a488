/**
 * Reads an answer's body with a bound on its size after decompression, so what one answer
 * costs a worker never depends on the vendor: a gzip bomb (a megabyte on the wire, a gigabyte
 * inside) or a page of 40 MB is read up to the limit and no further, and the request is
 * aborted there. fetch undoes the Content-Encoding as the body is pulled, so nothing past the
 * limit is ever inflated.
 */

/** Default VENDOR_MAX_ANSWER_BYTES: 32 MiB, hundreds of times an ordinary page (500 sales are ~100 KB). */
export const DEFAULT_MAX_ANSWER_BYTES = 32 * 1024 * 1024;
/** Smallest VENDOR_MAX_ANSWER_BYTES: below this an ordinary page of 500 records could be cut. */
export const MIN_MAX_ANSWER_BYTES = 1024 * 1024;
/**
 * Largest VENDOR_MAX_ANSWER_BYTES. An answer up to the limit is held as bytes, as text and as
 * parsed records at once, and copied again while it is landed: a 64 MiB answer already needs
 * most of a worker's 320 MB heap.
 */
export const MAX_MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** A body read up to a limit. */
export interface BoundedBody {
  body: Uint8Array;
  /** The body went on past the limit: `body` is its first `limit` bytes, the rest was never read. */
  truncated: boolean;
}

/**
 * The body of `res`, at most `limit` bytes of it after decompression. Past the limit the
 * stream is cancelled, which aborts the request (the connection is closed, the decompression
 * stops), and what was read comes back marked truncated.
 */
export async function readBounded(res: Response, limit: number): Promise<BoundedBody> {
  if (!res.body) return { body: new Uint8Array(0), truncated: false };
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { body: joined(chunks, total), truncated: false };
    if (total + value.byteLength > limit) {
      chunks.push(value.subarray(0, limit - total));
      await reader.cancel().catch(() => undefined);
      return { body: joined(chunks, limit), truncated: true };
    }
    chunks.push(value);
    total += value.byteLength;
  }
}

function joined(chunks: Uint8Array[], total: number): Uint8Array {
  const [only] = chunks;
  if (chunks.length === 1 && only?.byteLength === total) return only;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
