/**
 * Payload encryption on Temporal (the time-skipping test server): a real workflow's history
 * holds only ciphertext, a rotated key set still reads it, and the codec server the Web UI
 * calls decodes (and encodes) those payloads for whoever holds the token.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  type CodecConfig,
  ENCODING_ENCRYPTED,
  EncryptionCodec,
  type JsonPayload,
  METADATA_KEY_ID,
  dataConverterFor,
  payloadToJson,
} from '../src/codec/index.js';
import { type RunningCodecServer, startCodecServer } from '../src/codec/server.js';
import { startTimeSkipping } from './helpers/harness.js';
import { payloadsIn } from './helpers/evidence.js';
import { SECRET, TOKEN, UI_ORIGIN, config, jsonPayload, newKey, utf8 } from './helpers/codec.js';
import type { EchoActivities, EchoInput, EchoOutput, echo } from './workflows/echo.js';

const ECHO = fileURLToPath(new URL('./workflows/echo.ts', import.meta.url));

/** The history as bytes (its protobuf) and as JSON text with every bytes field in base64. */
function historyTexts(history: temporal.api.history.v1.IHistory): { bytes: Buffer; json: string } {
  return {
    bytes: Buffer.from(temporal.api.history.v1.History.encode(history).finish()),
    json: JSON.stringify(history, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
    ),
  };
}

describe('payload encryption', function () {
  this.timeout(180_000);
  describe('on Temporal (time-skipping test server) and through the codec server', () => {
    const oldKey = newKey();
    const cfg = config({ PAYLOAD_ENCRYPTION_KEY: oldKey, PAYLOAD_ENCRYPTION_KEY_ID: 'k1' });
    const input: EchoInput = { sale: { id: 'S-1001', customer: SECRET, amount: 4200.5 } };
    const expected: EchoOutput = { ...input, receipt: `receipt for ${SECRET}` };
    const activities: EchoActivities = { receipt: (sale) => Promise.resolve(`receipt for ${sale.customer}`) };
    let env: TestWorkflowEnvironment;
    let bundle: WorkflowBundleWithSourceMap;
    let result: EchoOutput;
    let history: temporal.api.history.v1.IHistory;
    let plainHistory: temporal.api.history.v1.IHistory;
    let server: RunningCodecServer;

    /** Runs `echo` through a worker and a client that share `dataConverter`; returns its result and history. */
    async function runEcho(workflowId: string, codecConfig: CodecConfig | undefined) {
      const taskQueue = `codec-${workflowId}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue,
        workflowBundle: bundle,
        activities,
        dataConverter: dataConverterFor(codecConfig),
      });
      const client = new Client({
        connection: env.connection,
        namespace: env.namespace ?? 'default',
        dataConverter: dataConverterFor(codecConfig),
      });
      const out = await worker.runUntil(
        client.workflow.execute<typeof echo>('echo', { taskQueue, workflowId, args: [input] }),
      );
      return { result: out, history: await client.workflow.getHandle(workflowId).fetchHistory() };
    }

    before(async () => {
      [env, bundle] = await Promise.all([
        startTimeSkipping(),
        bundleWorkflowCode({
          workflowsPath: ECHO,
          logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
        }),
      ]);
      ({ result, history } = await runEcho('echo-encrypted', cfg));
      ({ history: plainHistory } = await runEcho('echo-plain', undefined));
      server = await startCodecServer({
        codec: new EncryptionCodec(cfg),
        token: TOKEN,
        corsOrigin: UI_ORIGIN,
        port: 0,
      });
    });
    after(async () => {
      await server?.stop();
      await env?.teardown();
    });

    it('the client decodes the workflow result to the original', () => {
      assert.deepEqual(result, expected);
    });

    it("the history's payloads are ciphertext: no plaintext anywhere, every payload binary/encrypted", async () => {
      const events = history.events ?? [];
      const started = events.find(
        (e) => e.workflowExecutionStartedEventAttributes,
      )?.workflowExecutionStartedEventAttributes;
      const completed = events.find(
        (e) => e.workflowExecutionCompletedEventAttributes,
      )?.workflowExecutionCompletedEventAttributes;
      const scheduled = events.find(
        (e) => e.activityTaskScheduledEventAttributes,
      )?.activityTaskScheduledEventAttributes;
      const activityDone = events.find(
        (e) => e.activityTaskCompletedEventAttributes,
      )?.activityTaskCompletedEventAttributes;
      for (const [what, payloads] of [
        ['workflow input', started?.input?.payloads],
        ['workflow result', completed?.result?.payloads],
        ['activity input', scheduled?.input?.payloads],
        ['activity result', activityDone?.result?.payloads],
      ] as const)
        assert.equal(payloads?.length, 1, `the history has the ${what}`);

      const all = payloadsIn(history);
      assert.ok(all.length >= 4, `found ${all.length} payloads`);
      for (const p of all) {
        assert.equal(utf8(p.metadata?.encoding), ENCODING_ENCRYPTED);
        assert.equal(utf8(p.metadata?.[METADATA_KEY_ID]), 'k1');
        assert.ok(!Buffer.from(p.data ?? []).includes(SECRET), 'payload data holds no plaintext');
        assert.ok(!Buffer.from(p.data ?? []).includes('S-1001'), 'payload data holds no plaintext');
      }
      const { bytes, json } = historyTexts(history);
      for (const needle of [SECRET, 'S-1001', 'json/plain', Buffer.from(SECRET).toString('base64')]) {
        assert.ok(!bytes.includes(needle), `the history protobuf holds ${needle}`);
        assert.ok(!json.includes(needle), `the history JSON holds ${needle}`);
      }
      // The scan is meaningful: without the codec the same workflow leaves the customer in history.
      assert.ok(historyTexts(plainHistory).bytes.includes(SECRET), 'control: plaintext without the codec');

      // With the keys, the payloads open to the original values.
      const decoded = await new EncryptionCodec(cfg).decode(started?.input?.payloads ?? []);
      assert.deepEqual(JSON.parse(utf8(decoded[0]?.data)), input);
    });

    it('after a key rotation, a client with the old key in PAYLOAD_DECRYPTION_KEYS still reads the result', async () => {
      const rotated = config({
        PAYLOAD_ENCRYPTION_KEY: newKey(),
        PAYLOAD_ENCRYPTION_KEY_ID: 'k2',
        PAYLOAD_DECRYPTION_KEYS: `k1:${oldKey}`,
      });
      const connect = (c: CodecConfig) =>
        new Client({
          connection: env.connection,
          namespace: env.namespace ?? 'default',
          dataConverter: dataConverterFor(c),
        });
      assert.deepEqual(await connect(rotated).workflow.getHandle('echo-encrypted').result(), expected);
      const withoutOld = config({ PAYLOAD_ENCRYPTION_KEY: newKey(), PAYLOAD_ENCRYPTION_KEY_ID: 'k2' });
      await assert.rejects(
        connect(withoutOld).workflow.getHandle('echo-encrypted').result(),
        /key id "k1".*PAYLOAD_DECRYPTION_KEYS/,
      );
    });

    describe('the codec server', () => {
      const encryptedInput = (): JsonPayload[] =>
        (
          history.events?.find((e) => e.workflowExecutionStartedEventAttributes)
            ?.workflowExecutionStartedEventAttributes?.input?.payloads ?? []
        ).map(payloadToJson);
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });
      const auth = { Authorization: `Bearer ${TOKEN}` };
      const fromJson = (p: JsonPayload | undefined) => ({
        encoding: Buffer.from(p?.metadata?.encoding ?? '', 'base64').toString('utf8'),
        value: JSON.parse(Buffer.from(p?.data ?? '', 'base64').toString('utf8')) as unknown,
      });

      it("decodes the history's encrypted payloads with the token", async () => {
        const payloads = encryptedInput();
        assert.equal(
          Buffer.from(payloads[0]?.metadata?.encoding ?? '', 'base64').toString(),
          ENCODING_ENCRYPTED,
        );
        const res = await post('/decode', { payloads }, { ...auth, 'X-Namespace': 'default' });
        assert.equal(res.status, 200);
        assert.match(res.headers.get('content-type') ?? '', /application\/json/);
        assert.equal(res.headers.get('cache-control'), 'no-store');
        const body = (await res.json()) as { payloads: JsonPayload[] };
        assert.equal(body.payloads.length, 1);
        assert.deepEqual(fromJson(body.payloads[0]), { encoding: 'json/plain', value: input });
        // The protocol only looks at the last path segment.
        const nested = await post('/default/decode', { payloads }, auth);
        assert.equal(nested.status, 200);
      });

      it('encodes for the UI and CLI, and decodes that back', async () => {
        const plain = [payloadToJson(jsonPayload({ customer: SECRET }))];
        const enc = await post('/encode', { payloads: plain }, auth);
        assert.equal(enc.status, 200);
        const encoded = ((await enc.json()) as { payloads: JsonPayload[] }).payloads;
        assert.ok(!Buffer.from(encoded[0]?.data ?? '', 'base64').includes(SECRET));
        const dec = await post('/decode', { payloads: encoded }, auth);
        assert.deepEqual(fromJson(((await dec.json()) as { payloads: JsonPayload[] }).payloads[0]), {
          encoding: 'json/plain',
          value: { customer: SECRET },
        });
      });

      it('refuses without the token or with a wrong one (401), and shows nothing', async () => {
        const payloads = encryptedInput();
        const attempts: Array<Record<string, string>> = [
          {},
          { Authorization: `Bearer ${TOKEN}x` },
          { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
          { Authorization: TOKEN },
          { Authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` },
        ];
        for (const headers of attempts) {
          const res = await post('/decode', { payloads }, headers);
          assert.equal(res.status, 401, JSON.stringify(headers));
          assert.match(res.headers.get('www-authenticate') ?? '', /Bearer/);
          const text = await res.text();
          assert.ok(!text.includes(SECRET) && !text.includes(TOKEN));
        }
        assert.equal((await post('/encode', { payloads: [] })).status, 401);
      });

      it('answers CORS only for the Web UI origin', async () => {
        const preflight = (origin: string) =>
          fetch(`${server.url}/decode`, {
            method: 'OPTIONS',
            headers: {
              Origin: origin,
              'Access-Control-Request-Method': 'POST',
              'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
            },
          });
        const ok = await preflight(UI_ORIGIN);
        assert.equal(ok.status, 204);
        assert.equal(ok.headers.get('access-control-allow-origin'), UI_ORIGIN);
        assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
        assert.match(ok.headers.get('access-control-allow-methods') ?? '', /POST/);
        const allowed = (ok.headers.get('access-control-allow-headers') ?? '').toLowerCase();
        for (const h of ['authorization', 'content-type', 'x-namespace']) assert.ok(allowed.includes(h), h);

        for (const origin of ['http://evil.example.com', 'http://127.0.0.1:8234', 'null']) {
          const res = await preflight(origin);
          assert.equal(res.headers.get('access-control-allow-origin'), null, origin);
          assert.equal(res.headers.get('access-control-allow-credentials'), null, origin);
        }
        const real = await post('/decode', { payloads: encryptedInput() }, { ...auth, Origin: UI_ORIGIN });
        assert.equal(real.status, 200);
        assert.equal(real.headers.get('access-control-allow-origin'), UI_ORIGIN);
        const other = await post('/decode', { payloads: [] }, { ...auth, Origin: 'http://evil.example.com' });
        assert.equal(other.headers.get('access-control-allow-origin'), null);
      });

      it('signs a browser in at /login; the cookie counts only on requests from the Web UI origin', async () => {
        assert.equal((await fetch(`${server.url}/login`)).status, 200);
        const form = (token: string) =>
          fetch(`${server.url}/login`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ token }).toString(),
          });
        const wrong = await form('wrong-token-0000000000');
        assert.equal(wrong.status, 401);
        assert.equal(wrong.headers.get('set-cookie'), null);
        const signedIn = await form(TOKEN);
        assert.equal(signedIn.status, 200);
        const setCookie = signedIn.headers.get('set-cookie') ?? '';
        assert.match(setCookie, /HttpOnly/);
        assert.match(setCookie, /SameSite=Strict/);
        assert.ok(!setCookie.includes(TOKEN), 'the cookie is not the token');
        const cookie = setCookie.split(';')[0] ?? '';
        const payloads = encryptedInput();
        const fromUi = await post('/decode', { payloads }, { Cookie: cookie, Origin: UI_ORIGIN });
        assert.equal(fromUi.status, 200);
        assert.deepEqual(
          fromJson(((await fromUi.json()) as { payloads: JsonPayload[] }).payloads[0]).value,
          input,
        );
        assert.equal((await post('/decode', { payloads }, { Cookie: cookie })).status, 401);
        assert.equal(
          (await post('/decode', { payloads }, { Cookie: cookie, Origin: 'http://evil.example.com' })).status,
          401,
        );
        assert.equal(
          (await post('/decode', { payloads }, { Cookie: `${cookie}x`, Origin: UI_ORIGIN })).status,
          401,
        );
      });

      it('rejects bad requests clearly: 400, 404, 405, 413', async () => {
        const bad = await post('/decode', '{not json', auth);
        assert.equal(bad.status, 400);
        assert.match(((await bad.json()) as { error: string }).error, /not JSON/);
        const badB64 = await post('/decode', { payloads: [{ metadata: { encoding: '***' } }] }, auth);
        assert.equal(badB64.status, 400);
        assert.match(((await badB64.json()) as { error: string }).error, /payloads\[0\]\.metadata\.encoding/);
        const foreign = await new EncryptionCodec(
          config({ PAYLOAD_ENCRYPTION_KEY: newKey(), PAYLOAD_ENCRYPTION_KEY_ID: 'other' }),
        ).encode([jsonPayload(1)]);
        const unknownKey = await post('/decode', { payloads: foreign.map(payloadToJson) }, auth);
        assert.equal(unknownKey.status, 400);
        assert.match(
          ((await unknownKey.json()) as { error: string }).error,
          /key id "other".*PAYLOAD_DECRYPTION_KEYS/,
        );
        assert.equal((await post('/nowhere', {}, auth)).status, 404);
        assert.equal((await fetch(`${server.url}/decode`, { headers: auth })).status, 405);
        const big = await post(
          '/decode',
          JSON.stringify({ payloads: [], pad: 'x'.repeat(5 * 1024 * 1024) }),
          auth,
        );
        assert.equal(big.status, 413);
      });
    });
  });
});
