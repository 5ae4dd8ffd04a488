/**
 * Payload encryption for everything the worker and the client send to Temporal, and the
 * pieces the codec server (src/codec/server.ts) shares with them. See config.ts for the
 * settings and codec.ts for the wire form.
 */
export { type CodecConfig, DEFAULT_KEY_ID, describeCodecConfig, loadCodecConfig } from './config.js';
export {
  ENCODING_ENCRYPTED,
  EncryptionCodec,
  METADATA_KEY_ID,
  PayloadDecryptionError,
  dataConverterFor,
  isEncrypted,
} from './codec.js';
export {
  type JsonPayload,
  PayloadJsonError,
  payloadFromJson,
  payloadToJson,
  payloadsFromJsonBody,
} from './json.js';
export { LOCAL_SECRETS_FILE, localCodecSecrets } from './local.js';
export {
  LOCAL_STACK_FILE,
  type LocalStackInfo,
  localDataDir,
  readLocalCodecSecrets,
  readLocalStackInfo,
  writeLocalStackInfo,
} from './local.js';
export { type ClientSettings, encryptionSwitch, resolveClientSettings } from './client-settings.js';
