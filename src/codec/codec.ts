/**
 * The payload codec: every payload the worker and the client send to Temporal is serialized
 * (the Payload protobuf, metadata included) and encrypted with AES-256-GCM, so workflow
 * inputs, results, activity arguments, queries and memos are ciphertext in history.
 *
 * Wire form of an encrypted payload:
 *   metadata  encoding = "binary/encrypted", encryption-key-id = <key id>
 *   data      iv (12 random bytes) | ciphertext | auth tag (16 bytes)
 *
 * Decoding leaves payloads of any other encoding untouched (history written before
 * encryption was turned on stays readable), and picks the key by the id in the payload: the
 * current key or one of the older keys kept for rotation (PAYLOAD_DECRYPTION_KEYS).
 */
import { type KeyObject, createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { SyncError } from '../shared/errors.js';
import type { CodecConfig } from './config.js';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';
const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

// Default import: the package is CommonJS, and Node's ESM loader sees no named exports in it.
const ProtoPayload = proto.temporal.api.common.v1.Payload;
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | undefined | null) => (b ? Buffer.from(b).toString('utf8') : undefined);

/** A payload that cannot be decrypted: unknown key id, altered data or wrong key. */
export class PayloadDecryptionError extends SyncError {
  constructor(
    message: string,
    readonly keyId: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PayloadDecryptionError';
  }
}

/** Whether `payload` is one this codec produced. */
export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCODING_ENCRYPTED;
}

/** AES-256-GCM payload codec; the key id travels in each payload so keys can rotate. */
export class EncryptionCodec implements PayloadCodec {
  private readonly keyId: string;
  private readonly key: KeyObject;
  private readonly keys: ReadonlyMap<string, KeyObject>;

  constructor(config: CodecConfig) {
    const key = config.keys.get(config.keyId);
    if (!key) throw new Error(`codec config has no key under its current id ${config.keyId}`);
    this.keyId = config.keyId;
    this.key = key;
    this.keys = config.keys;
  }

  // A throw inside the executor rejects the promise: callers always get a rejection, never a throw.
  encode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((p) => this.encrypt(p))));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return new Promise((resolve) => resolve(payloads.map((p) => (isEncrypted(p) ? this.decrypt(p) : p))));
  }

  private encrypt(payload: Payload): Payload {
    const plain = ProtoPayload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.key, iv, { authTagLength: TAG_BYTES });
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: utf8(ENCODING_ENCRYPTED), [METADATA_KEY_ID]: utf8(this.keyId) },
      data: sealed,
    };
  }

  private decrypt(payload: Payload): Payload {
    const rawId = text(payload.metadata?.[METADATA_KEY_ID]);
    const known = [...this.keys.keys()].join(', ');
    if (rawId === undefined)
      throw new PayloadDecryptionError(
        `Cannot decrypt a payload: it is ${ENCODING_ENCRYPTED} but carries no ${METADATA_KEY_ID}; it was not written by this codec.`,
        undefined,
      );
    const id = JSON.stringify(rawId.slice(0, 64));
    const key = this.keys.get(rawId);
    if (!key)
      throw new PayloadDecryptionError(
        `Cannot decrypt a payload encrypted with key id ${id}: this process has no key with that id (it has ${known}). Add that key to PAYLOAD_DECRYPTION_KEYS as ${rawId.slice(0, 64)}:<base64 key> (comma-separated id:key pairs) and restart.`,
        rawId,
      );
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError(
        `Cannot decrypt a payload encrypted with key id ${id}: its data is ${data.length} bytes, shorter than an IV and an auth tag; it was truncated.`,
        rawId,
      );
    let plain: Buffer;
    try {
      const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (err) {
      throw new PayloadDecryptionError(
        `Cannot decrypt a payload encrypted with key id ${id}: authentication failed, so the data was altered or the key configured under ${id} is not the one that encrypted it. Check the key with that id in PAYLOAD_ENCRYPTION_KEY / PAYLOAD_DECRYPTION_KEYS.`,
        rawId,
        { cause: err },
      );
    }
    const inner = ProtoPayload.decode(plain);
    return {
      metadata: inner.metadata,
      data: inner.data,
      ...(inner.externalPayloads.length ? { externalPayloads: inner.externalPayloads } : {}),
    };
  }
}

/**
 * The `dataConverter` option for `Worker.create` and `new Client` (and Schedule/Workflow
 * clients): the encryption codec when configured, else the SDK default (`{}`).
 */
export function dataConverterFor(config: CodecConfig | undefined): DataConverter {
  return config ? { payloadCodecs: [new EncryptionCodec(config)] } : {};
}
