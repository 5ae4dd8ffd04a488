/**
 * The servers `npm start` runs for the parts configuration leaves local: the vendor simulator,
 * DynamoDB Local, the object server, PostgreSQL, the codec server and the Temporal dev server.
 * Each is registered to stop (in reverse order) and to be ended at once; the child processes run
 * in process groups of their own, so that a terminal's Ctrl-C reaches only `npm start`, which
 * stops them after the workers.
 */
import { join } from 'node:path';
import {
  EncryptionCodec,
  type CodecConfig,
  describeCodecConfig,
  loadCodecConfig,
  localCodecSecrets,
} from '../../src/codec/index.js';
import { codecServerHelp, loadCodecServerConfig, startCodecServer } from '../../src/codec/server.js';
import type { FeedConfig } from '../../src/config/feed.js';
import type { LocalStackConfig } from '../../src/config/local-stack.js';
import { ConfigError } from '../../src/shared/errors.js';
import { VendorSimulator } from '../../src/sim/index.js';
import { startPostgres } from '../lib/postgres.js';
import { maskUrlPassword } from '../lib/redact.js';
import type { StopList } from '../lib/stop-list.js';
import {
  killChild,
  localLandingEnv,
  startDynamoLocal,
  startObjectServer,
  startTemporalDevServer,
} from '../stack.js';

/** The landing bucket of the local stack. */
export const LOCAL_LANDING_BUCKET = 'sales-sync-landing';

/** What the servers started: settings for the rest (overrides of the environment), and where things are. */
export interface LocalParts {
  overrides: Record<string, string>;
  uiUrl?: string;
  codec?: CodecConfig;
  codecUrl?: string;
  /** The SQL copy's URL: the local PostgreSQL's, or DATABASE_URL. */
  databaseUrl: string;
}

/** Starts the simulator, DynamoDB Local, the object server and PostgreSQL where configuration leaves them local. */
async function startDataServers(
  stack: LocalStackConfig,
  feed: FeedConfig,
  dataDir: string,
  servers: StopList,
  env: NodeJS.ProcessEnv,
): Promise<{ overrides: Record<string, string>; databaseUrl: string }> {
  const overrides: Record<string, string> = {};
  const ports = stack.ports;
  if (stack.local.vendor) {
    const { apiKey: key, ...size } = stack.sim;
    const sim = await VendorSimulator.start({ port: ports.sim, apiKeys: [key], ...size }).catch(
      (err: Error) => {
        throw new ConfigError(`${err.message} (vendor simulator, SIM_PORT=${ports.sim})`);
      },
    );
    servers.add('vendor simulator', () => sim.stop());
    overrides.VENDOR_API_URL = sim.url;
    if (!env.VENDOR_API_KEY_FILE?.trim()) overrides.VENDOR_API_KEY = key;
    console.log(`vendor simulator   ${sim.url}`);
  }
  if (stack.local.dynamo) {
    const dir = join(dataDir, 'dynamodb');
    const dynamo = await startDynamoLocal({ port: ports.dynamo, dataDir: dir, detached: true });
    servers.add(
      'DynamoDB Local',
      () => dynamo.stop(),
      () => killChild(dynamo.child),
    );
    overrides.DYNAMODB_ENDPOINT = dynamo.endpoint;
    console.log(`DynamoDB Local     ${dynamo.endpoint} (data in ${dir})`);
  }
  if (stack.local.objects) {
    const dir = join(dataDir, 'objects');
    const objects = await startObjectServer({ port: ports.objects, dataDir: dir, detached: true });
    servers.add(
      'object server',
      () => objects.stop(),
      () => killChild(objects.child),
    );
    Object.assign(overrides, localLandingEnv(objects, LOCAL_LANDING_BUCKET));
    console.log(`object server      ${objects.endpoint} (versitygw; files in ${dir})`);
  }
  let databaseUrl = feed.databaseUrl;
  if (!databaseUrl) {
    const pg = await startPostgres({
      port: feed.localPort,
      dataDir: join(dataDir, 'postgres'),
      detached: true,
    });
    servers.add(
      'PostgreSQL',
      () => pg.stop(),
      () => pg.kill(),
    );
    databaseUrl = pg.url;
    console.log(`PostgreSQL         ${pg.url} (data in ${pg.dataDir})`);
  } else console.log(`PostgreSQL         ${maskUrlPassword(databaseUrl)} (DATABASE_URL)`);
  return { overrides, databaseUrl };
}

/** Starts the codec server (payload encryption on): its URL. */
async function startCodec(
  codec: CodecConfig,
  stack: LocalStackConfig,
  uiUrl: string | undefined,
  settings: NodeJS.ProcessEnv,
  servers: StopList,
): Promise<string> {
  const srv = loadCodecServerConfig(settings);
  const localTemporal = stack.local.temporal;
  // The local Web UI answers under both names of the loopback address; each is its own origin.
  const localUi = [`http://127.0.0.1:${stack.ports.ui}`, `http://localhost:${stack.ports.ui}`];
  const configured = settings.CODEC_CORS_ORIGIN?.trim() || !localTemporal ? srv.corsOrigins : [];
  const origins = [...new Set([...(localTemporal ? localUi : []), ...(uiUrl ? [uiUrl] : []), ...configured])];
  const codecServer = await startCodecServer({
    codec: new EncryptionCodec(codec),
    token: srv.token,
    corsOrigin: origins,
    port: srv.port,
    host: srv.host,
  });
  servers.add('codec server', () => codecServer.stop());
  console.log(`codec server       ${codecServer.url} (${describeCodecConfig(codec)})`);
  for (const line of codecServerHelp(codecServer.url, origins)) console.log(`                   ${line}`);
  return codecServer.url;
}

/** Starts every local part (see the module comment); `encrypt`: payload encryption is on. */
export async function startLocalParts(
  stack: LocalStackConfig,
  feed: FeedConfig,
  dataDir: string,
  encrypt: boolean,
  servers: StopList,
  env: NodeJS.ProcessEnv,
): Promise<LocalParts> {
  const { overrides, databaseUrl } = await startDataServers(stack, feed, dataDir, servers, env);
  let uiUrl = stack.uiUrl;
  // Payload encryption: locally a key and a codec-server token are generated once and kept
  // in DATA_DIR; elsewhere PAYLOAD_ENCRYPTION_KEY / CODEC_SERVER_TOKEN come from the environment.
  if (stack.local.temporal && encrypt) Object.assign(overrides, localCodecSecrets(dataDir, env));
  const codec = encrypt ? loadCodecConfig({ ...env, ...overrides }) : undefined;
  const codecUrl = codec
    ? await startCodec(codec, stack, uiUrl, { ...env, ...overrides }, servers)
    : undefined;
  if (stack.local.temporal) {
    // No cluster-level codec endpoint (--ui-codec-endpoint): the Web UI would then use it with
    // credentials off and ignore the browser's "Include cross-origin credentials" (UI 2.42),
    // so every decode would be refused. The browser's own codec setting is the one to use.
    const dbFile = join(dataDir, 'temporal.db');
    const temporal = await startTemporalDevServer({
      port: stack.ports.temporal,
      uiPort: stack.ports.ui,
      dbFile,
      detached: true,
    });
    servers.add(
      'Temporal dev server',
      () => temporal.stop(),
      () => killChild(temporal.child),
    );
    overrides.TEMPORAL_ADDRESS = temporal.address;
    uiUrl = temporal.uiUrl;
    console.log(`Temporal           ${temporal.address} (state in ${dbFile})`);
    console.log(`Temporal Web UI    ${temporal.uiUrl}`);
  }
  return {
    overrides,
    ...(uiUrl ? { uiUrl } : {}),
    ...(codec ? { codec } : {}),
    ...(codecUrl ? { codecUrl } : {}),
    databaseUrl,
  };
}
