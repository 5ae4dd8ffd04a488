/**
 * Payload encryption at rest: the AES-256-GCM codec and its configuration (keys, key ids,
 * rotation, the local stack's secrets, the codec server's settings). The codec on a real
 * workflow's history is in codec-temporal.test.ts, the codec server in codec-server*.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ENCODING_ENCRYPTED,
  EncryptionCodec,
  LOCAL_SECRETS_FILE,
  METADATA_KEY_ID,
  PayloadDecryptionError,
  dataConverterFor,
  loadCodecConfig,
  localCodecSecrets,
} from '../src/codec/index.js';
import { loadCodecServerConfig } from '../src/codec/server.js';
import { ConfigError } from '../src/shared/errors.js';
import { SECRET, TOKEN, UI_ORIGIN, config, jsonPayload, newKey, utf8 } from './helpers/codec.js';

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
});
