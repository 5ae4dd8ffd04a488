/**
 * Keys and documents of the landing zone, on real servers (versitygw; DynamoDB Local and the
 * time-skipping server where a run or an activity takes part): every answer lands under a key
 * of its own, bodies come back byte for byte, a replay reads the answer its run used, and
 * objects landed under the previous key layout still replay.
 */
import assert from 'node:assert/strict';
import { gzipSync, gunzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { LookupBranchOutput } from '../src/activities/index.js';
import {
  type AnswerCaller,
  type Landing,
  type LandedDocument,
  type LandedRun,
  requestDigest,
} from '../src/landing/index.js';
import { type VendorAnswer, type VendorRequest, vendorRequests } from '../src/vendor-api/client.js';
import { freshLanding, startObjects, SIM_KEY, useStack } from './helpers/harness.js';
import { oneBranch, saleText, send, useScriptedVendors } from './helpers/scripted-vendor.js';
import type { ObjectServer } from '../scripts/stack.js';

const RUN: LandedRun = { scope: '2026-05-01T00:00:00Z/24h', workflowId: 'run-keys' };
const AKRON = vendorRequests.branchByName('Akron');
const AKRON_RECORD = '{"id":7,"branch_name":"Akron","employees":1,"location":"Ohio"}';

function answer(
  req: VendorRequest,
  status: number,
  body: string | Uint8Array,
  fetchedAt: string,
): VendorAnswer {
  return {
    request: req,
    status,
    headers: { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '1' } : {}) },
    body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
    fetchedAt,
  };
}

function caller(activityId: string, attempt = 1, runId = 'child-run-1'): AnswerCaller {
  return { workflowId: 'child', runId, activityId, attempt };
}

/** The raw JSON text of a landed object. */
async function rawDocument(landing: Landing, key: string): Promise<string> {
  const got = await landing.s3.send(new GetObjectCommand({ Bucket: landing.bucket, Key: key }));
  return gunzipSync(await got.Body!.transformToByteArray()).toString('utf8');
}

describe('landing keys and documents (versitygw)', function () {
  this.timeout(60_000);
  let objects: ObjectServer;
  let landing: Landing;
  before(async () => {
    objects = await startObjects();
  });
  after(() => objects?.stop());
  beforeEach(async () => {
    landing = await freshLanding(objects);
  });
  afterEach(() => landing.s3.destroy());

  it('two activities of one workflow run asking the same request, each at attempt 1, land two objects', async () => {
    const a = await landing.land(
      answer(AKRON, 200, '{"result":[]}', '2026-05-01T01:00:00.000Z'),
      RUN,
      null,
      caller('3'),
    );
    const b = await landing.land(
      answer(AKRON, 200, '{"result":[1]}', '2026-05-01T01:00:05.000Z'),
      RUN,
      null,
      caller('5'),
    );
    assert.notEqual(a.key, b.key);
    assert.equal((await landing.keys('raw/')).length, 2);
    assert.equal((await landing.read(a.key)).caller.activityId, '3');
    assert.equal((await landing.read(b.key)).caller.activityId, '5');
    // The same attempt of the same activity landing again overwrites its own object.
    const again = await landing.land(
      answer(AKRON, 200, '{"result":[]}', '2026-05-01T01:00:06.000Z'),
      RUN,
      null,
      caller('3'),
    );
    assert.equal(again.key, a.key);
    assert.equal((await landing.keys('raw/')).length, 2);
    assert.deepEqual(
      await landing.requestsOf('/branches', RUN),
      [AKRON],
      'one request, whatever its answers',
    );
  });

  it('a body starting with a UTF-8 BOM comes back byte for byte, and so does a body that is not UTF-8', async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"result":[]}')]);
    const req1 = vendorRequests.branchByName('Bom');
    await landing.land(answer(req1, 200, bom, '2026-05-01T01:00:00.000Z'), RUN, null, caller('1'));
    const got1 = await landing.latest(req1, RUN);
    assert.deepEqual(Buffer.from(got1!.body), Buffer.from(bom), 'the BOM is kept');

    const latin1 = new Uint8Array([0x7b, 0x22, 0xe9, 0x22, 0x7d, 0xff, 0xfe]);
    const req2 = vendorRequests.branchByName('Latin');
    const { key } = await landing.land(
      answer(req2, 200, latin1, '2026-05-01T01:00:00.000Z'),
      RUN,
      null,
      caller('2'),
    );
    const doc = JSON.parse(await rawDocument(landing, key)) as LandedDocument;
    assert.equal(doc.body, undefined);
    assert.equal(doc.bodyBase64, Buffer.from(latin1).toString('base64'));
    assert.deepEqual(Buffer.from((await landing.latest(req2, RUN))!.body), Buffer.from(latin1));
  });

  it('an answer cut at VENDOR_MAX_ANSWER_BYTES is landed marked truncated, and read back so', async () => {
    const req = vendorRequests.branchByName('Huge');
    const cut = {
      ...answer(req, 200, '{"result":[{"branch_name":"Hu', '2026-05-01T01:00:00.000Z'),
      truncated: true as const,
    };
    const { key } = await landing.land(cut, RUN, null, caller('t'));
    const doc = JSON.parse(await rawDocument(landing, key)) as LandedDocument;
    assert.equal(doc.truncated, true, 'the landed document says the body is cut');
    const back = await landing.latest(req, RUN);
    assert.equal(back?.truncated, true, 'a replay sees the cut answer as cut');
    const whole = answer(
      vendorRequests.branchByName('Whole'),
      200,
      '{"result":[]}',
      '2026-05-01T01:00:00.000Z',
    );
    const { key: wholeKey } = await landing.land(whole, RUN, null, caller('w'));
    assert.equal((JSON.parse(await rawDocument(landing, wholeKey)) as LandedDocument).truncated, undefined);
  });

  it('a replay reads the 200 a run used, not a 429 or 5xx landed after it', async () => {
    await landing.land(
      answer(AKRON, 429, '{"error":"slow down"}', '2026-05-01T01:00:00.000Z'),
      RUN,
      null,
      caller('1', 1),
    );
    await landing.land(
      answer(AKRON, 200, `{"result":[${AKRON_RECORD}]}`, '2026-05-01T01:00:01.000Z'),
      RUN,
      null,
      caller('1', 2),
    );
    await landing.land(
      answer(AKRON, 429, '{"error":"slow down"}', '2026-05-01T01:00:02.000Z'),
      RUN,
      null,
      caller('4', 1),
    );
    await landing.land(answer(AKRON, 503, 'busy', '2026-05-01T01:00:03.000Z'), RUN, null, caller('4', 2));
    const got = await landing.latest(AKRON, RUN);
    assert.equal(got?.status, 200);
    assert.equal(new TextDecoder().decode(got.body), `{"result":[${AKRON_RECORD}]}`);
  });

  it('a replay reads the 404 a run used (a vanished salesperson), and the newest error when the run never got an answer', async () => {
    const sales = vendorRequests.sales('42', null);
    await landing.land(answer(sales, 500, 'oops', '2026-05-01T01:00:00.000Z'), RUN, null, caller('9', 1));
    await landing.land(
      answer(sales, 404, '{"error":"gone"}', '2026-05-01T01:00:01.000Z'),
      RUN,
      null,
      caller('9', 2),
    );
    await landing.land(
      answer(sales, 429, '{"error":"slow"}', '2026-05-01T01:00:02.000Z'),
      RUN,
      null,
      caller('11', 1),
    );
    assert.equal((await landing.latest(sales, RUN))?.status, 404);

    const never = vendorRequests.sales('43', null);
    await landing.land(answer(never, 503, 'a', '2026-05-01T01:00:00.000Z'), RUN, null, caller('12', 1));
    await landing.land(answer(never, 429, 'b', '2026-05-01T01:00:01.000Z'), RUN, null, caller('12', 2));
    const last = await landing.latest(never, RUN);
    assert.equal(last?.status, 429, 'the run never got an answer it could use: the replay fails as it did');
  });

  it('within one activity the later attempt wins even when its worker clock was behind', async () => {
    await landing.land(
      answer(AKRON, 200, '{"result":[]}', '2026-05-01T01:00:09.000Z'),
      RUN,
      null,
      caller('2', 1),
    );
    await landing.land(
      answer(AKRON, 200, `{"result":[${AKRON_RECORD}]}`, '2026-05-01T01:00:01.000Z'),
      RUN,
      null,
      caller('2', 10),
    );
    const got = await landing.latest(AKRON, RUN);
    assert.equal(new TextDecoder().decode(got!.body), `{"result":[${AKRON_RECORD}]}`);
  });

  it('objects landed under the previous key layout (<digest>-<caller run>-<attempt>) still replay', async () => {
    const folder = `raw/branches/${RUN.scope}/${RUN.workflowId}/`;
    const old = (status: number, body: string, fetchedAt: string, attempt: number) => {
      const doc: LandedDocument = {
        format: 'vendor-answer/1',
        request: AKRON,
        status,
        headers: { 'content-type': 'application/json' },
        body,
        fetchedAt,
        run: RUN,
        window: null,
        caller: caller('1', attempt, '0a1b2c3d-4e5f-6789-abcd-ef0123456789'),
      };
      return landing.s3.send(
        new PutObjectCommand({
          Bucket: landing.bucket,
          Key: `${folder}${requestDigest(AKRON)}-0a1b2c3d-4e5f-6789-abcd-ef0123456789-${attempt}.json.gz`,
          Body: gzipSync(JSON.stringify(doc)),
        }),
      );
    };
    await old(429, '{"error":"slow"}', '2026-05-01T01:00:00.000Z', 1);
    await old(200, `{"result":[${AKRON_RECORD}]}`, '2026-05-01T01:00:01.000Z', 2);
    // A later answer under the new layout that the run did not use.
    await landing.land(
      answer(AKRON, 429, '{"error":"slow"}', '2026-05-01T01:00:02.000Z'),
      RUN,
      null,
      caller('3'),
    );
    assert.equal((await landing.keys(folder)).length, 3);
    assert.deepEqual(await landing.requestsOf('/branches', RUN), [AKRON]);
    const got = await landing.latest(AKRON, RUN);
    assert.equal(got?.status, 200);
    assert.match(got.key, /-0a1b2c3d-4e5f-6789-abcd-ef0123456789-2\.json\.gz$/);
  });
});

describe('landing keys in a run (time-skipping server, versitygw, DynamoDB Local)', function () {
  this.timeout(240_000);
  const stack = useStack('time-skipping');
  const scripted = useScriptedVendors(stack);

  it('four different invalid answers to one branch lookup in one run land four objects, and each quarantine row names its own', async () => {
    let n = 0;
    const { vendor, p } = await scripted(oneBranch('7', '42', [saleText('1')]), SIM_KEY, (req, res) => {
      if (req.path !== '/branches') return false;
      n++;
      return send(res, 200, `{"result":[{"id":7,"branch_name":"Akron","employees":1,"location":${n}}]}`);
    });
    await p.withWorkers(() => p.run({ branches: ['Akron'], window: 'full' }));
    assert.equal(vendor.seen('/branches').length, 4, 'the branch was looked up four times');
    const keys = (await p.landing.keys('raw/branches/')).map((k) => k.key);
    assert.equal(keys.length, 4, 'four answers, four objects');
    const rows = (await p.store.scanAll('quarantine')).filter((q) => q.kind === 'branch');
    assert.equal(rows.length, 4, 'four set-aside records');
    const named = new Set(rows.map((r) => r.landed_object));
    assert.equal(named.size, 4, 'each row names an object of its own');
    for (const row of rows) {
      assert.ok(keys.includes(String(row.landed_object)), `${String(row.landed_object)} landed`);
      const doc = await p.landing.read(String(row.landed_object));
      const location = (row.raw as string).match(/"location":(\d+)/)?.[1];
      assert.ok(location, String(row.raw));
      assert.ok(doc.body?.includes(`"location":${location}}`), `${doc.body} holds the row's record`);
    }
  });

  it('a replayed branch lookup reads the 200 its run stored, not a 429 landed later', async () => {
    const p = await stack.pipeline();
    await p.landing.land(
      answer(AKRON, 200, `{"result":[${AKRON_RECORD}]}`, '2026-05-01T01:00:00.000Z'),
      RUN,
      null,
      caller('1'),
    );
    await p.landing.land(
      answer(AKRON, 429, '{"error":"slow"}', '2026-05-01T01:00:05.000Z'),
      RUN,
      null,
      caller('2'),
    );
    const acts = p.activities();
    const env = new MockActivityEnvironment({ workflowExecution: { workflowId: 'replay-1', runId: 'r-9' } });
    const out: LookupBranchOutput = await env.run(acts.lookupBranch, {
      landing: { run: RUN, replay: true },
      name: 'Akron',
    });
    assert.deepEqual(out.branch, { id: '7', name: 'Akron' });
    assert.equal((await p.store.scanAll('branches')).length, 1);
  });
});
