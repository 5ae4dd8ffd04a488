/**
 * Payload encryption at rest: the AES-256-GCM codec, its configuration, a real workflow's
 * history on Temporal's time-skipping test server, and the codec server the Web UI calls.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import {
  type CodecConfig,
  ENCODING_ENCRYPTED,
  EncryptionCodec,
  type JsonPayload,
  LOCAL_SECRETS_FILE,
  METADATA_KEY_ID,
  PayloadDecryptionError,
  dataConverterFor,
  loadCodecConfig,
  localCodecSecrets,
  payloadToJson,
} from '../src/codec/index.js';
import { type RunningCodecServer, loadCodecServerConfig, startCodecServer } from '../src/codec/server.js';
import { ConfigError } from '../src/shared/errors.js';
import { startTimeSkipping } from './helpers/harness.js';
import { payloadsIn } from './helpers/evidence.js';
import type { EchoActivities, EchoInput, EchoOutput, echo } from './workflows/echo.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ECHO = fileURLToPath(new URL('./workflows/echo.ts', import.meta.url));
const SECRET = 'Blue Cross Secret Customer';
const UI_ORIGIN = 'http://127.0.0.1:8233';
const TOKEN = 'test-codec-token-0123456789abcdef';

const newKey = () => randomBytes(32).toString('base64');
const utf8 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const jsonPayload = (value: unknown): Payload => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});

function config(env: Record<string, string>): CodecConfig {
  const cfg = loadCodecConfig(env);
  assert.ok(cfg, 'encryption is configured');
  return cfg;
}

/** Asserts that loading `env` throws a ConfigError naming `variable`, without any key from `env` in it. */
function assertConfigError(env: Record<string, string>, variable: string, detail?: RegExp): void {
  assert.throws(
    () => loadCodecConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
      assert.match(err.message, new RegExp(variable));
      if (detail) assert.match(err.message, detail);
      for (const value of Object.values(env))
        for (const part of value.split(/[,:]/))
          if (part.length >= 16)
            assert.ok(!err.message.includes(part), `message leaks key material: ${err.message}`);
      return true;
    },
  );
}

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

  describe('the codec', () => {
    it('round-trips payloads, with the key id in metadata and only ciphertext in data', async () => {
      const cfg = config({ PAYLOAD_ENCRYPTION_KEY: newKey(), PAYLOAD_ENCRYPTION_KEY_ID: 'k7' });
      const codec = new EncryptionCodec(cfg);
      const original = [
        jsonPayload({ customer: SECRET, amount: 12.5 }),
        { metadata: {}, data: new Uint8Array() },
      ];
      const encoded = await codec.encode(original);
      assert.equal(encoded.length, 2);
      for (const p of encoded) {
        assert.equal(utf8(p.metadata?.encoding), ENCODING_ENCRYPTED);
        assert.equal(utf8(p.metadata?.[METADATA_KEY_ID]), 'k7');
        assert.deepEqual(Object.keys(p.metadata ?? {}).sort(), ['encoding', METADATA_KEY_ID].sort());
        assert.ok(!Buffer.from(p.data ?? []).includes(SECRET), 'data holds no plaintext');
        assert.ok(!Buffer.from(p.data ?? []).includes('json/plain'), 'the inner metadata is encrypted too');
      }
      // A fresh random IV each time: the same payload never encrypts to the same bytes.
      const again = await codec.encode(original);
      assert.notDeepEqual(Buffer.from(again[0]?.data ?? []), Buffer.from(encoded[0]?.data ?? []));

      const decoded = await codec.decode(encoded);
      assert.equal(utf8(decoded[0]?.metadata?.encoding), 'json/plain');
      assert.deepEqual(JSON.parse(utf8(decoded[0]?.data)), { customer: SECRET, amount: 12.5 });
      assert.equal(Buffer.from(decoded[1]?.data ?? []).length, 0);
    });

    it('passes through payloads it did not encrypt', async () => {
      const codec = new EncryptionCodec(config({ PAYLOAD_ENCRYPTION_KEY: newKey() }));
      const plain = jsonPayload({ written: 'before encryption was turned on' });
      const [out] = await codec.decode([plain]);
      assert.equal(out, plain);
    });

    it('decodes with a rotated key set: the old key in PAYLOAD_DECRYPTION_KEYS, a new current key', async () => {
      const [oldKey, newerKey] = [newKey(), newKey()];
      const before = new EncryptionCodec(
        config({ PAYLOAD_ENCRYPTION_KEY: oldKey, PAYLOAD_ENCRYPTION_KEY_ID: 'k1' }),
      );
      const after = new EncryptionCodec(
        config({
          PAYLOAD_ENCRYPTION_KEY: newerKey,
          PAYLOAD_ENCRYPTION_KEY_ID: 'k2',
          PAYLOAD_DECRYPTION_KEYS: `k1:${oldKey}`,
        }),
      );
      const oldCipher = await before.encode([jsonPayload({ customer: SECRET })]);
      const [decodedOld] = await after.decode(oldCipher);
      assert.deepEqual(JSON.parse(utf8(decodedOld?.data)), { customer: SECRET });

      const newCipher = await after.encode([jsonPayload({ customer: SECRET })]);
      assert.equal(utf8(newCipher[0]?.metadata?.[METADATA_KEY_ID]), 'k2', 'new payloads use the new key');
      const [decodedNew] = await after.decode(newCipher);
      assert.deepEqual(JSON.parse(utf8(decodedNew?.data)), { customer: SECRET });
    });

    it('fails on an unknown key id with a message naming the id and PAYLOAD_DECRYPTION_KEYS', async () => {
      const old = new EncryptionCodec(
        config({ PAYLOAD_ENCRYPTION_KEY: newKey(), PAYLOAD_ENCRYPTION_KEY_ID: 'k0' }),
      );
      const current = new EncryptionCodec(
        config({ PAYLOAD_ENCRYPTION_KEY: newKey(), PAYLOAD_ENCRYPTION_KEY_ID: 'k1' }),
      );
      const encoded = await old.encode([jsonPayload({ customer: SECRET })]);
      await assert.rejects(current.decode(encoded), (err: unknown) => {
        assert.ok(err instanceof PayloadDecryptionError);
        assert.equal(err.keyId, 'k0');
        assert.match(err.message, /key id "k0"/);
        assert.match(err.message, /PAYLOAD_DECRYPTION_KEYS/);
        assert.match(err.message, /it has k1/);
        return true;
      });
    });

    it('fails on tampered ciphertext, and on a different key under the same id', async () => {
      const codec = new EncryptionCodec(config({ PAYLOAD_ENCRYPTION_KEY: newKey() }));
      const [encoded] = await codec.encode([jsonPayload({ customer: SECRET })]);
      assert.ok(encoded?.data);
      for (const at of [0, 12, encoded.data.length - 1]) {
        const data = Buffer.from(encoded.data);
        data[at] = (data[at] ?? 0) ^ 0x01;
        await assert.rejects(codec.decode([{ ...encoded, data }]), (err: unknown) => {
          assert.ok(err instanceof PayloadDecryptionError);
          assert.match(err.message, /key id "k1": authentication failed/);
          return true;
        });
      }
      await assert.rejects(codec.decode([{ ...encoded, data: encoded.data.subarray(0, 20) }]), /truncated/);
      const impostor = new EncryptionCodec(config({ PAYLOAD_ENCRYPTION_KEY: newKey() }));
      await assert.rejects(impostor.decode([encoded]), /authentication failed/);
    });
  });

  describe('configuration', () => {
    it('no PAYLOAD_ENCRYPTION_KEY: no codec, and the default data converter', () => {
      assert.equal(loadCodecConfig({}), undefined);
      assert.deepEqual(dataConverterFor(undefined), {});
      const cfg = config({ PAYLOAD_ENCRYPTION_KEY: newKey() });
      assert.equal(cfg.keyId, 'k1');
      const dc = dataConverterFor(cfg);
      assert.ok(dc.payloadCodecs?.[0] instanceof EncryptionCodec);
    });

    it('rejects a missing, short, non-base64 or zero key, naming PAYLOAD_ENCRYPTION_KEY and the form', () => {
      const form = /base64 of 32 random bytes.*openssl rand -base64 32/;
      assertConfigError(
        { PAYLOAD_ENCRYPTION_KEY: randomBytes(16).toString('base64') },
        'PAYLOAD_ENCRYPTION_KEY',
        form,
      );
      assertConfigError(
        { PAYLOAD_ENCRYPTION_KEY: randomBytes(33).toString('base64') },
        'PAYLOAD_ENCRYPTION_KEY',
        /33 bytes/,
      );
      assertConfigError(
        { PAYLOAD_ENCRYPTION_KEY: `${randomBytes(32).toString('hex')}` },
        'PAYLOAD_ENCRYPTION_KEY',
        /48 bytes/,
      );
      assertConfigError(
        { PAYLOAD_ENCRYPTION_KEY: 'this is not base64 at all!!!!!!!!!!!!!!!!!' },
        'PAYLOAD_ENCRYPTION_KEY',
        /not base64/,
      );
      assertConfigError(
        { PAYLOAD_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64') },
        'PAYLOAD_ENCRYPTION_KEY',
        /zero/,
      );
      // "Missing": the key id or older keys are set, but not the key itself.
      assertConfigError(
        { PAYLOAD_ENCRYPTION_KEY_ID: 'k2' },
        'PAYLOAD_ENCRYPTION_KEY_ID is set but PAYLOAD_ENCRYPTION_KEY is not',
        form,
      );
      assertConfigError(
        { PAYLOAD_DECRYPTION_KEYS: `k1:${newKey()}` },
        'PAYLOAD_DECRYPTION_KEYS is set but PAYLOAD_ENCRYPTION_KEY is not',
      );
      assert.throws(
        () => loadCodecConfig({}, { required: true }),
        /PAYLOAD_ENCRYPTION_KEY is not set: expected base64/,
      );
      // base64url is accepted too.
      assert.ok(config({ PAYLOAD_ENCRYPTION_KEY: randomBytes(32).toString('base64url') }));
    });

    it('rejects a bad key id, naming PAYLOAD_ENCRYPTION_KEY_ID and the allowed characters', () => {
      for (const id of ['has space', 'k/1', 'x'.repeat(65), 'clé'])
        assertConfigError(
          { PAYLOAD_ENCRYPTION_KEY: newKey(), PAYLOAD_ENCRYPTION_KEY_ID: id },
          'PAYLOAD_ENCRYPTION_KEY_ID',
          /1 to 64 characters from A-Z a-z 0-9 \. _ -/,
        );
    });

    it('rejects malformed PAYLOAD_DECRYPTION_KEYS without echoing keys', () => {
      const current = newKey();
      const base = { PAYLOAD_ENCRYPTION_KEY: current, PAYLOAD_ENCRYPTION_KEY_ID: 'k2' };
      const bad: Array<[string, RegExp]> = [
        [newKey(), /entry 1 is not of the form id:key/],
        [`k1:${newKey()},${newKey()}`, /entry 2 is not of the form id:key/],
        [`bad id:${newKey()}`, /key id of entry 1 is not valid/],
        [`k1:${randomBytes(31).toString('base64')}`, /entry 1, key id "k1"\).*31 bytes/],
        [`k1:${newKey()},k1:${newKey()}`, /"k1" appears twice/],
        [`k2:${newKey()}`, /different key under "k2"/],
        [' , ', /PAYLOAD_DECRYPTION_KEYS is empty/],
      ];
      for (const [keys, detail] of bad)
        assertConfigError({ ...base, PAYLOAD_DECRYPTION_KEYS: keys }, 'PAYLOAD_DECRYPTION_KEYS', detail);
      const ok = config({
        ...base,
        PAYLOAD_DECRYPTION_KEYS: ` k1:${newKey()} , k0:${newKey()}, k2:${current}`,
      });
      assert.deepEqual([...ok.keys.keys()], ['k2', 'k1', 'k0']);
    });

    it('never shows key material when the config is logged', () => {
      const key = newKey();
      const cfg = config({ PAYLOAD_ENCRYPTION_KEY: key });
      const shown = `${JSON.stringify(cfg)} ${JSON.stringify([...cfg.keys])}`;
      assert.ok(!shown.includes(key));
      assert.ok(!shown.includes(Buffer.from(key, 'base64').toString('hex')));
    });

    it('the local stack generates a key and a token once, keeps them private, and never overrides the environment', () => {
      const dir = mkdtempSync(join(tmpdir(), 'codec-local-'));
      try {
        const first = localCodecSecrets(join(dir, 'data'), {});
        assert.equal((statSync(join(dir, 'data', LOCAL_SECRETS_FILE)).mode & 0o777).toString(8), '600');
        assert.deepEqual(
          localCodecSecrets(join(dir, 'data'), {}),
          first,
          'the same secrets on the next start',
        );
        assert.equal(config(first).keyId, 'local1');
        assert.ok(loadCodecServerConfig(first).token.length >= 16);
        assert.deepEqual(
          localCodecSecrets(join(dir, 'data'), {
            PAYLOAD_ENCRYPTION_KEY: newKey(),
            CODEC_SERVER_TOKEN: TOKEN,
          }),
          {},
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('validates the codec server settings', () => {
      assert.throws(
        () => loadCodecServerConfig({}),
        /CODEC_SERVER_TOKEN is not set: expected at least 16 characters/,
      );
      assert.throws(
        () => loadCodecServerConfig({ CODEC_SERVER_TOKEN: 'short' }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.match(err.message, /CODEC_SERVER_TOKEN is not valid: expected at least 16/);
          assert.ok(!err.message.includes('short'));
          return true;
        },
      );
      const withToken = { CODEC_SERVER_TOKEN: TOKEN };
      assert.deepEqual(loadCodecServerConfig(withToken), {
        token: TOKEN,
        corsOrigins: [UI_ORIGIN],
        port: 8888,
        host: '127.0.0.1',
      });
      assert.throws(
        () => loadCodecServerConfig({ ...withToken, CODEC_CORS_ORIGIN: 'http://127.0.0.1:8233/namespaces' }),
        /CODEC_CORS_ORIGIN=.* is not valid: expected the Web UI's origin/,
      );
      assert.throws(
        () => loadCodecServerConfig({ ...withToken, CODEC_CORS_ORIGIN: '*' }),
        /CODEC_CORS_ORIGIN/,
      );
      assert.throws(
        () => loadCodecServerConfig({ ...withToken, CODEC_SERVER_PORT: '70000' }),
        /CODEC_SERVER_PORT=/,
      );
      assert.deepEqual(
        loadCodecServerConfig({
          ...withToken,
          CODEC_CORS_ORIGIN: 'http://localhost:8233/, https://ui.example.com',
        }).corsOrigins,
        ['http://localhost:8233', 'https://ui.example.com'],
      );
    });
  });

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

  describe('the codec server process (tsx src/codec/server.ts)', () => {
    function run(env: Record<string, string>, untilOutput?: RegExp) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/codec/server.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const ready = new Promise<void>((resolve, reject) => {
        const check = () => untilOutput && untilOutput.test(out) && resolve();
        child.stdout.on('data', check);
        void exited.then(() => reject(new Error(`exited early: ${out}${err}`)));
      });
      ready.catch(() => undefined); // awaited only by the tests that wait for output
      return { child, exited, ready, output: () => ({ out, err }) };
    }

    it('stops with exit code 2 and a message naming the variable when a setting is bad', async () => {
      const key = newKey();
      const noToken = run({ PAYLOAD_ENCRYPTION_KEY: key });
      assert.equal(await noToken.exited, 2);
      assert.match(
        noToken.output().err,
        /configuration error: CODEC_SERVER_TOKEN is not set: expected at least 16/,
      );
      const noKey = run({ CODEC_SERVER_TOKEN: TOKEN });
      assert.equal(await noKey.exited, 2);
      assert.match(
        noKey.output().err,
        /PAYLOAD_ENCRYPTION_KEY is not set: expected base64 of 32 random bytes/,
      );
      const shortKey = run({ CODEC_SERVER_TOKEN: TOKEN, PAYLOAD_ENCRYPTION_KEY: key.slice(0, 20) });
      assert.equal(await shortKey.exited, 2);
      assert.match(shortKey.output().err, /PAYLOAD_ENCRYPTION_KEY is not valid/);
      assert.ok(!shortKey.output().err.includes(key.slice(0, 20)), 'no key material in the message');
    });

    it('serves on the configured port, prints its URL and how to set it in the Web UI, and stops on SIGTERM', async () => {
      const proc = run(
        { CODEC_SERVER_TOKEN: TOKEN, PAYLOAD_ENCRYPTION_KEY: newKey(), CODEC_SERVER_PORT: '0' },
        /--codec-auth .*\n/, // the last line printed at start
      );
      await proc.ready;
      const { out } = proc.output();
      const url = /codec server\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      assert.ok(url, out);
      assert.match(out, /--codec-auth "Bearer \$CODEC_SERVER_TOKEN"/);
      assert.ok(!out.includes(TOKEN), 'the token is not printed');
      assert.equal((await fetch(`${url}/health`)).status, 200);
      proc.child.kill('SIGTERM');
      assert.equal(await proc.exited, 0);
    });
  });
});

describe('codec server sessions (signed, timestamped, revocable)', function () {
  this.timeout(30_000);
  let server: RunningCodecServer;
  let clock = Date.parse('2026-11-21T08:00:00Z');
  const codec = new EncryptionCodec(config({ PAYLOAD_ENCRYPTION_KEY: newKey() }));
  let encrypted: JsonPayload[];

  before(async () => {
    server = await startCodecServer({
      codec,
      token: TOKEN,
      corsOrigin: UI_ORIGIN,
      port: 0,
      sessionSeconds: 3600,
      now: () => clock,
    });
    encrypted = (await codec.encode([jsonPayload({ customer: SECRET })])).map(payloadToJson);
  });
  after(() => server.stop());

  const signIn = async (headers: Record<string, string> = {}) => {
    const res = await fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    assert.equal(res.status, 200);
    return { setCookie: res.headers.get('set-cookie') ?? '', page: await res.text() };
  };
  const cookieOf = (setCookie: string) => setCookie.split(';')[0] ?? '';
  const decode = (cookie: string) =>
    fetch(`${server.url}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: cookie, Origin: UI_ORIGIN },
      body: JSON.stringify({ payloads: encrypted }),
    }).then((r) => r.status);

  it('a session expires on the server, whatever the browser keeps', async () => {
    const { setCookie } = await signIn();
    assert.match(setCookie, /Max-Age=3600/);
    const cookie = cookieOf(setCookie);
    assert.equal(await decode(cookie), 200);
    clock += 3599_000;
    assert.equal(await decode(cookie), 200, 'still valid just before the end');
    clock += 2_000;
    assert.equal(await decode(cookie), 401, 'expired: the server refuses the same cookie');
  });

  it('a cookie with a changed timestamp or id is refused (the signature covers them)', async () => {
    const cookie = cookieOf((await signIn()).setCookie);
    const [name, value] = cookie.split('=') as [string, string];
    const [v, issued, id, mac] = value.split('.') as [string, string, string, string];
    assert.equal(v, 'v1');
    assert.equal(await decode(cookie), 200);
    const later = `${name}=${[v, String(Number(issued) + 3600), id, mac].join('.')}`;
    assert.equal(await decode(later), 401);
    const otherId = `${name}=${[v, issued, `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`, mac].join('.')}`;
    assert.equal(await decode(otherId), 401);
    assert.ok(!value.includes(TOKEN), 'the cookie is not the token');
  });

  it('logout revokes the session on the server: the same cookie no longer decodes', async () => {
    const keep = cookieOf((await signIn()).setCookie);
    const cookie = cookieOf((await signIn()).setCookie);
    assert.notEqual(cookie, keep, 'each sign-in is its own session');
    assert.equal(await decode(cookie), 200);
    const out = await fetch(`${server.url}/logout`, { method: 'POST', headers: { Cookie: cookie } });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /codec_session=;.*Max-Age=0/);
    assert.match(await out.text(), /ended on the server/);
    assert.equal(await decode(cookie), 401, 'a copy of the revoked cookie is refused');
    assert.equal(await decode(keep), 200, 'other sessions go on');
  });

  it('the cookie is Secure behind https (a TLS-terminating proxy), not on plain http', async () => {
    assert.doesNotMatch((await signIn()).setCookie, /Secure/);
    const behindHttps = await signIn({ 'X-Forwarded-Proto': 'https' });
    assert.match(behindHttps.setCookie, /; Secure/);
    assert.match(behindHttps.setCookie, /HttpOnly/);
    assert.match(behindHttps.setCookie, /SameSite=Strict/);
  });

  it('the sign-in page names the endpoint to set, under the host name the browser used', async () => {
    const port = new URL(server.url).port;
    // fetch() cannot set Host: a plain request as a browser at http://localhost:<port> sends it.
    const body = new URLSearchParams({ token: TOKEN }).toString();
    const page = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${server.url}/login`,
        {
          method: 'POST',
          headers: {
            Host: `localhost:${port}`,
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.once('error', reject);
      req.end(body);
    });
    assert.match(page, new RegExp(`set the endpoint to <code id="endpoint">http://localhost:${port}</code>`));
    assert.match(page, /Include cross-origin credentials/);
  });
});
