/** What the payload-encryption tests (test/codec*.test.ts) share: fixed secrets, fresh keys, payloads, a codec config. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { type CodecConfig, loadCodecConfig } from '../../src/codec/index.js';

export const SECRET = 'Blue Cross Secret Customer';
export const UI_ORIGIN = 'http://127.0.0.1:8233';
export const TOKEN = 'test-codec-token-0123456789abcdef';

export const newKey = () => randomBytes(32).toString('base64');
export const utf8 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
export const jsonPayload = (value: unknown): Payload => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});

export function config(env: Record<string, string>): CodecConfig {
  const cfg = loadCodecConfig(env);
  assert.ok(cfg, 'encryption is configured');
  return cfg;
}
