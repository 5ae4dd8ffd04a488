/**
 * A vendor body as text without inventing characters. `TextDecoder` (and `Response.text()`)
 * turn bytes that are not UTF-8 into U+FFFD, which would then be stored as if the vendor had
 * sent it. Here each such byte becomes a lone surrogate U+DC80..U+DCFF instead (the
 * "surrogateescape" of PEP 383): valid UTF-8 never decodes to a lone surrogate, so the JSON
 * parser can tell exactly which strings held bytes that are not text (parseExactJson's
 * `undecodedBytes`), and set aside those records alone, while the byte each marker stands for
 * is still known (U+DC00 + byte).
 */

import { UNDECODED_BYTE } from './exact-json.js';

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/** A body decoded as UTF-8, with where it was not. */
export interface DecodedBody {
  text: string;
  /** Bytes that are not UTF-8, each standing in `text` as U+DC00 + byte (0 for a valid body). */
  invalidBytes: number;
  /** Offset in the body of the first of them (-1 for a valid body). */
  firstInvalidAt: number;
}

/**
 * Decodes UTF-8; every byte that is not part of a well-formed sequence becomes U+DC00 + byte.
 * A valid body (nearly always) costs one native decode; only an invalid one is walked here.
 */
export function decodeUtf8Escaped(bytes: Uint8Array): DecodedBody {
  try {
    return { text: strict.decode(bytes), invalidBytes: 0, firstInvalidAt: -1 };
  } catch {
    return decodeSlowly(bytes);
  }
}

function decodeSlowly(bytes: Uint8Array): DecodedBody {
  const parts: string[] = [];
  let invalidBytes = 0;
  let firstInvalidAt = -1;
  let runStart = 0;
  let i = 0;
  // A leading BOM is dropped, as the fast path's decoder does.
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = runStart = 3;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    if (runStart < i) parts.push(lenient.decode(bytes.subarray(runStart, i)));
    parts.push(String.fromCharCode(0xdc00 + b));
    if (firstInvalidAt < 0) firstInvalidAt = i;
    invalidBytes++;
    runStart = ++i;
  }
  if (runStart < bytes.length) parts.push(lenient.decode(bytes.subarray(runStart)));
  return { text: parts.join(''), invalidBytes, firstInvalidAt };
}

/** Length of the well-formed multi-byte UTF-8 sequence at `i` (Unicode table 3-7), or 0. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] as number;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const b = bytes[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/**
 * The text for a person to read (the quarantine table): each byte that was not UTF-8 written
 * as `\xHH`. The bytes as received are in the landing zone.
 */
export function showUndecoded(text: string): string {
  return text.replace(
    new RegExp(UNDECODED_BYTE.source, 'g'),
    (c) => `\\x${(c.charCodeAt(0) - 0xdc00).toString(16).padStart(2, '0')}`,
  );
}
