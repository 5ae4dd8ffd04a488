/**
 * Answers that are well-formed but abusive, one activity attempt at a time, against DynamoDB
 * Local, the landing zone on versitygw and a scripted vendor that is not the simulator: a
 * gzip bomb, a page past VENDOR_MAX_ANSWER_BYTES and a body that never ends are cut at the
 * limit, landed as far as they were read and failed as too large without a retry; bytes that
 * are not UTF-8 set aside the record (or the body) that holds them and never reach the store
 * as U+FFFD. (What they cost a real worker's memory: worker-memory.test.ts.)
 */
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { DynamoLocal, ObjectServer } from '../scripts/stack.js';
import { type SyncSalesPageOutput, createActivities } from '../src/activities/index.js';
import type { Landing, LandedDocument } from '../src/landing/index.js';
import type { Store } from '../src/store/index.js';
import { VendorClient } from '../src/vendor-api/client.js';
import { DEFAULT_MAX_ANSWER_BYTES } from '../src/vendor-api/read-body.js';
import { GiB, MiB, gzipBomb, sendBytes, sendEndless } from './helpers/abusive.js';
import {
  LIVE,
  SIM_KEY,
  freshLanding,
  freshStore,
  startDynamo,
  startObjects,
  stateOf,
} from './helpers/harness.js';
import { type Handler, ScriptedVendor, oneBranch, saleText } from './helpers/scripted-vendor.js';

const quiet = new DefaultLogger('ERROR');
const BRANCH = '7';
const SP = '42';
const SALES_REQUEST = `/sales?salespersonsID=${SP}&page_size=100`;
/** The start of a `/sales` answer for SP, up to its first record. */
const SALES_START = `{"result":{"employee_id":${SP},"sales":[`;

/** `text` as UTF-8 with each marker of `bytes` replaced by its bytes (bytes that need not be UTF-8). */
function withBytes(text: string, bytes: Record<string, number[]>): Buffer {
  const markers = new RegExp(Object.keys(bytes).join('|'), 'g');
  const out: Buffer[] = [];
  let at = 0;
  for (const m of text.matchAll(markers)) {
    out.push(Buffer.from(text.slice(at, m.index), 'utf8'), Buffer.from(bytes[m[0]] ?? []));
    at = (m.index ?? 0) + m[0].length;
  }
  out.push(Buffer.from(text.slice(at), 'utf8'));
  return Buffer.concat(out);
}

const hasReplacementCharacter = (v: unknown) => JSON.stringify(v).includes('\uFFFD');

describe('abusive vendor answers, one attempt at a time (scripted vendor, DynamoDB Local, versitygw)', function () {
  this.timeout(120_000);
  let dynamo: DynamoLocal;
  let objects: ObjectServer;
  const vendors: ScriptedVendor[] = [];
  const landings: Landing[] = [];
  before(async () => {
    [dynamo, objects] = await Promise.all([startDynamo(), startObjects()]);
  });
  after(async () => {
    await Promise.all(vendors.map((v) => v.stop()));
    for (const l of landings) l.s3.destroy();
    await dynamo?.stop();
    await objects?.stop();
  });

  async function setup(handler: Handler, options: { maxAnswerBytes?: number; sales?: string[] } = {}) {
    const vendor = await ScriptedVendor.start(oneBranch(BRANCH, SP, options.sales ?? []), SIM_KEY, handler);
    vendors.push(vendor);
    const store = await freshStore(dynamo);
    const landing = await freshLanding(objects);
    landings.push(landing);
    const client = new VendorClient({
      url: vendor.url,
      apiKey: SIM_KEY,
      timeoutMs: 20_000,
      maxAnswerBytes: options.maxAnswerBytes,
    });
    const acts = createActivities({ vendor: client, store, pageSize: 100, landing, state: stateOf(store) });
    const env = new MockActivityEnvironment(
      { workflowExecution: { workflowId: 'wf-test', runId: 'run-test' } },
      { logger: quiet },
    );
    const syncSales = (): Promise<SyncSalesPageOutput> =>
      env.run(acts.syncSalesPage, {
        landing: LIVE,
        employeeId: SP,
        branchId: BRANCH,
        window: null,
        pageToken: null,
      });
    /** The one answer landed for `/sales`. */
    const landed = async (): Promise<LandedDocument> => {
      const keys = await landing.keys('raw/sales/');
      assert.equal(keys.length, 1, 'one answer landed');
      return landing.read(keys[0]?.key ?? '');
    };
    return { vendor, store, syncSales, landed };
  }

  async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    return err;
  }

  /** The attempt failed as too large, for good, naming the request, the limit and the setting. */
  function assertTooLarge(f: ApplicationFailure, limit: number): void {
    assert.equal(f.type, 'VendorAnswerTooLarge');
    assert.equal(f.nonRetryable, true);
    assert.ok(f.message.includes(`${SALES_REQUEST} with more than ${limit} bytes`), f.message);
    assert.match(f.message, new RegExp(`VENDOR_MAX_ANSWER_BYTES=${limit}`));
  }

  /** Nothing stored, the page set aside as a body naming its landed object. */
  async function assertPageSetAside(store: Store): Promise<void> {
    assert.deepEqual(await store.scanAll('sales'), []);
    const q = await store.scanAll('quarantine');
    assert.equal(q.length, 1);
    assert.equal(q[0]?.kind, 'body');
    assert.match(String(q[0]?.reason), /with more than \d+ bytes/);
    assert.match(String(q[0]?.landed_object), /^raw\/sales\//);
  }

  it('cuts a gzip bomb (1 GiB of whitespace in 1 MB) at the limit: failed as too large after one request, landed as far as read', async () => {
    const bomb = await gzipBomb(`${SALES_START}${saleText('1')},`, GiB, `${saleText('2')}]}}`);
    assert.ok(bomb.length < 2 * MiB, `the bomb is ${bomb.length} bytes on the wire`);
    const { vendor, store, syncSales, landed } = await setup((req, res) =>
      req.path === '/sales' ? sendBytes(res, 200, bomb, { 'content-encoding': 'gzip' }) : false,
    );
    assertTooLarge(await failureOf(syncSales()), DEFAULT_MAX_ANSWER_BYTES);
    assert.equal(vendor.seen('/sales').length, 1);
    await assertPageSetAside(store);
    const doc = await landed();
    assert.equal(doc.body?.length, DEFAULT_MAX_ANSWER_BYTES, 'the body landed as far as it was read');
    assert.ok(doc.body?.startsWith(`${SALES_START}${saleText('1')},   `));
  });

  it('aborts a body that never ends at the limit instead of reading on until the deadline', async () => {
    let sent: Promise<number> | undefined;
    const { store, syncSales, landed } = await setup(
      (req, res) => {
        if (req.path !== '/sales') return false;
        sent = sendEndless(res, SALES_START);
        return true;
      },
      { maxAnswerBytes: MiB },
    );
    const started = Date.now();
    assertTooLarge(await failureOf(syncSales()), MiB);
    assert.ok(Date.now() - started < 10_000, 'failed at the limit, long before the 20 s deadline');
    const bytes = await sent;
    assert.ok(
      bytes !== undefined && bytes < 64 * MiB,
      `the vendor stopped sending: the connection closed after ${bytes} bytes`,
    );
    await assertPageSetAside(store);
    assert.equal((await landed()).body?.length, MiB);
  });

  it('fails a 40 MB page (one 40 MB field beside a good record) as too large: nothing of it is used', async () => {
    const { vendor, store, syncSales } = await setup(() => false, {
      sales: [saleText('1'), saleText('2', `"blob":"${'x'.repeat(40_000_000)}"`)],
    });
    assertTooLarge(await failureOf(syncSales()), DEFAULT_MAX_ANSWER_BYTES);
    assert.equal(vendor.seen('/sales').length, 1);
    await assertPageSetAside(store);
  });

  it('reads an answer of exactly the limit; one byte more is too large', async () => {
    const body = `${SALES_START}${saleText('1')}]}}`;
    const size = Buffer.byteLength(body);
    const fits = await setup(() => false, { sales: [saleText('1')], maxAnswerBytes: size });
    const out = await fits.syncSales();
    assert.equal(out.counts.sales?.inserted, 1);
    const over = await setup(() => false, { sales: [saleText('1')], maxAnswerBytes: size - 1 });
    assertTooLarge(await failureOf(over.syncSales()), size - 1);
  });

  it('sets aside the records whose strings or keys are not UTF-8, stores the good ones beside them, and never stores U+FFFD', async () => {
    const records = [
      saleText('1', '"customer_note":"Zoë 😀 ünïcödé"'),
      // The bytes FF FE FD inside a string: stored as "}\ufffd\ufffd\ufffd(" before.
      saleText('2', '"note":"}@@("'),
      saleText('3'),
      saleText('4', '"n#ote":"x"'),
      saleText('5', '"note":"a%%"'),
    ];
    const bytes = withBytes(`${SALES_START}${records.join(',')}]}}`, {
      '@@': [0xff, 0xfe, 0xfd],
      '#': [0xc3],
      '%%': [0xf0, 0x9f, 0x98], // a 4-byte sequence cut short
    });
    const { vendor, store, syncSales, landed } = await setup((req, res) =>
      req.path === '/sales' ? sendBytes(res, 200, bytes) : false,
    );
    const out = await syncSales();
    assert.equal(vendor.seen('/sales').length, 1);
    assert.equal(out.counts.sales?.inserted, 2);
    assert.equal(out.counts.sales?.setAside, 3);
    const stored = await store.scanAll('sales');
    assert.deepEqual(stored.map((s) => String(s.sale_id)).sort(), ['1', '3']);
    assert.equal(stored.find((s) => s.sale_id === '1')?.customer_note, 'Zoë 😀 ünïcödé');
    assert.ok(!hasReplacementCharacter(stored), 'nothing stored with U+FFFD');
    const q = await store.scanAll('quarantine');
    assert.equal(q.length, 3);
    assert.ok(!hasReplacementCharacter(q), 'nor set aside with U+FFFD');
    for (const e of q) assert.match(String(e.reason), /^invalid sale: .*is not valid UTF-8/);
    // The set-aside record keeps the bytes it had: each as \udcXX (U+DC00 + byte).
    assert.ok(
      q.some((e) => String(e.raw).includes('"note":"}\\udcff\\udcfe\\udcfd("')),
      'the bytes are kept',
    );
    const doc = await landed();
    assert.equal(doc.bodyBase64, bytes.toString('base64'), 'landed as received');
  });

  it('sets aside a body that is not UTF-8 outside its strings, or in its page token, landed as received', async () => {
    const utf16 = Buffer.from(`\uFEFF${SALES_START}${saleText('1')}]}}`, 'utf16le');
    const a = await setup((req, res) => (req.path === '/sales' ? sendBytes(res, 200, utf16) : false));
    const f = await failureOf(a.syncSales());
    assert.equal(f.type, 'VendorBadBody');
    assert.match(
      f.message,
      /a body that is not JSON .* and is not UTF-8 \(\d+ bytes that are not, the first at byte 0/,
    );
    const q = await a.store.scanAll('quarantine');
    assert.equal(q.length, 1);
    assert.ok(!hasReplacementCharacter(q));
    assert.ok(String(q[0]?.raw).startsWith('\\xff\\xfe{'), String(q[0]?.raw).slice(0, 20));
    assert.equal((await a.landed()).bodyBase64, utf16.toString('base64'));
    assert.deepEqual(await a.store.scanAll('sales'), []);

    const token = withBytes(`${SALES_START}${saleText('1')}]},"next_page_token":"p@"}`, { '@': [0x80] });
    const b = await setup((req, res) => (req.path === '/sales' ? sendBytes(res, 200, token) : false));
    const g = await failureOf(b.syncSales());
    assert.equal(g.type, 'VendorBadBody');
    assert.match(
      g.message,
      /ambiguous \/sales envelope \(the value of "next_page_token" is not valid UTF-8\)/,
    );
    assert.deepEqual(await b.store.scanAll('sales'), []);
  });
});
