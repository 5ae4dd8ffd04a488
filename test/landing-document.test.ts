/**
 * The landed document as bytes: written piece by piece into gzip (src/landing/encode.ts), so a
 * body at VENDOR_MAX_ANSWER_BYTES is never copied whole. What is written must be exactly the
 * document: every byte a UTF-8 body can hold comes back as the same text, any other body as its
 * base64, and the rest of the document as JSON.stringify would write it.
 */
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import type { AnswerCaller, LandedDocument, LandedRun } from '../src/landing/document.js';
import { encodeDocument } from '../src/landing/encode.js';
import { type VendorAnswer, vendorRequests } from '../src/vendor-api/client.js';

const RUN: LandedRun = { scope: '2026-05-01T00:00:00Z/24h', workflowId: 'run-doc' };
const CALLER: AnswerCaller = { workflowId: 'child', runId: 'r1', activityId: '4', attempt: 2 };
const WINDOW = { from: '2026-04-30T00:00:00.000Z', to: '2026-05-01T00:00:00.000Z' };

function answer(body: Uint8Array, truncated = false): VendorAnswer {
  return {
    request: vendorRequests.branchByName('Akron "Main"\\'),
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', location: '/x?a="b"' },
    body,
    ...(truncated ? { truncated: true as const } : {}),
    fetchedAt: '2026-05-01T01:00:00.000Z',
  };
}

async function landed(a: VendorAnswer): Promise<{ text: string; doc: LandedDocument }> {
  const text = gunzipSync(await encodeDocument(a, RUN, WINDOW, CALLER)).toString('utf8');
  return { text, doc: JSON.parse(text) as LandedDocument };
}

/** The document as the landing zone wrote it before it was streamed: the format readers know. */
function expected(a: VendorAnswer, body: Partial<LandedDocument>): LandedDocument {
  return {
    format: 'vendor-answer/1',
    request: a.request,
    status: a.status,
    headers: a.headers,
    ...body,
    ...(a.truncated ? { truncated: true as const } : {}),
    fetchedAt: a.fetchedAt,
    run: RUN,
    window: WINDOW,
    caller: CALLER,
  };
}

describe('the landed document, written piece by piece', () => {
  it('holds a UTF-8 body as the same text whatever it holds: every control byte, quotes, backslashes, a BOM, U+2028, emoji', async () => {
    const ascii = Buffer.from(Array.from({ length: 128 }, (_, i) => i));
    const text = `\ufeff{"a":"${ascii.toString('latin1')}"} é ✓ \u2028 \u2029 😀 \ufeff`;
    const bytes = Buffer.concat([Buffer.from(text, 'utf8'), ascii]);
    const a = answer(new Uint8Array(bytes));
    const { doc } = await landed(a);
    assert.deepEqual(doc, expected(a, { body: bytes.toString('utf8') }));
    assert.deepEqual(Buffer.from(doc.body ?? '', 'utf8'), bytes, 'byte for byte');
  });

  it('keeps a body that is not UTF-8 (a lone continuation byte, an overlong form, an encoded surrogate) as base64', async () => {
    for (const bad of [
      [0x7b, 0x80, 0x7d],
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0x22, 0xff, 0xfe],
    ]) {
      const a = answer(new Uint8Array(bad));
      const { doc } = await landed(a);
      assert.deepEqual(
        doc,
        expected(a, { bodyBase64: Buffer.from(bad).toString('base64') }),
        `bytes ${bad.join(' ')}`,
      );
    }
  });

  for (const [what, times] of [
    ['in one buffer (a body of several slices, under 512 KiB)', 20_000],
    ["through gzip's stream (a body over 512 KiB)", 80_000],
  ] as const) {
    it(`writes bodies longer than one slice whole ${what}, escapes across slice boundaries included`, async () => {
      const utf8 = Buffer.from('"\\\n✓😀'.repeat(times), 'utf8');
      const a = answer(new Uint8Array(utf8), true);
      assert.deepEqual((await landed(a)).doc, expected(a, { body: utf8.toString('utf8') }));
      const binary = Buffer.from(Array.from({ length: times * 10 + 3 }, (_, i) => (i * 7919) % 256));
      const b = answer(new Uint8Array(binary));
      assert.deepEqual((await landed(b)).doc, expected(b, { bodyBase64: binary.toString('base64') }));
    });
  }

  it('writes an empty body, and of a body that is a view into a larger buffer only the view, as text or as base64', async () => {
    const empty = answer(new Uint8Array(0));
    assert.deepEqual((await landed(empty)).doc, expected(empty, { body: '' }));
    // The bytes around each view are not UTF-8: judging the whole buffer would land base64.
    const around = (inner: Buffer) => Buffer.concat([Buffer.from([0xff, 0xfe]), inner, Buffer.from([0xff])]);
    const text = around(Buffer.from('{"result":[]}'));
    const view = answer(new Uint8Array(text.buffer, text.byteOffset + 2, text.length - 3));
    assert.deepEqual((await landed(view)).doc, expected(view, { body: '{"result":[]}' }));
    const binary = around(Buffer.from([0x7b, 0xe9, 0x7d]));
    const binaryView = answer(new Uint8Array(binary.buffer, binary.byteOffset + 2, binary.length - 3));
    assert.deepEqual((await landed(binaryView)).doc, expected(binaryView, { bodyBase64: 'e+l9' }));
  });

  it('writes slices that need no escaping as they are, beside slices that do, in a streamed body', async () => {
    const plain = Buffer.alloc(600 * 1024, 'abcdefgh');
    const body = Buffer.concat([plain, Buffer.from('"\\\n'), plain]);
    const a = answer(new Uint8Array(body));
    assert.deepEqual((await landed(a)).doc, expected(a, { body: body.toString('utf8') }));
  });
});
