/**
 * The main job (`npm start`): starts the embedded local stack — the Temporal dev server
 * with its Web UI, DynamoDB Local and the vendor simulator — unless configuration points
 * a part elsewhere, creates the tables and the hourly schedule, starts the workers,
 * triggers the first run, shows its progress and summary, then keeps serving the
 * schedule until Ctrl-C. `--once` exits after the first run (non-zero if it failed).
 *
 * A part is external when its address is set: TEMPORAL_ADDRESS, DYNAMODB_ENDPOINT (or
 * AWS_ENDPOINT_URL_DYNAMODB / USE_AWS_DYNAMODB=true), VENDOR_API_URL.
 */
import { parseArgs } from 'node:util';
import { localDataDir, writeLocalStackInfo, encryptionSwitch } from '../src/codec/index.js';
import { loadFeedConfig } from '../src/config/feed.js';
import { loadConfig } from '../src/config/index.js';
import { loadLocalStackConfig } from '../src/config/local-stack.js';
import { ConfigError } from '../src/shared/errors.js';
import { maskUrlPassword } from './lib/redact.js';
import { firstRun, landedDir } from './start/first-run.js';
import { startLocalParts } from './start/servers.js';
import { prepareLanding, startServices } from './start/services.js';
import { Stopping } from './start/stopping.js';
import { exitWith } from '../src/node/main.js';

const HELP = `usage: npm start [-- --once]

Starts the local stack (Temporal dev server + Web UI, DynamoDB Local, vendor simulator, object
server, PostgreSQL and the change feed),
creates the tables and the hourly schedule, runs the first sync and keeps serving the
schedule until Ctrl-C.

  --once     exit after the first run: 0 if it succeeded, 1 if it failed or skipped branches
  --help     this text

Ports: TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), DYNAMODB_LOCAL_PORT (8000), SIM_PORT (8080),
S3_LOCAL_PORT (7070, the object server of the landing zone), METRICS_PORT (9464, the workers'
Prometheus endpoint; 0: a free port), POSTGRES_PORT (5432, the SQL copy).
State: DATA_DIR (default .data/): temporal.db, dynamodb/, objects/ (the landing bucket's files), postgres/.
Simulator size: SIM_SEED, SIM_BRANCHES, SIM_EMPLOYEES_PER_BRANCH, SIM_SALES_PER_SALESPERSON.`;

/** Refuses what would start runs with plain payloads in a deployment that may encrypt; true when encryption is on. */
function checkEncryption(env: NodeJS.ProcessEnv, localTemporal: boolean): boolean {
  // Encryption is on by default: never create the schedule or start a run with plain payloads
  // in a deployment that may encrypt, unless PAYLOAD_ENCRYPTION=off says so.
  const encryption = encryptionSwitch(env);
  if (encryption === 'off' && env.PAYLOAD_ENCRYPTION_KEY?.trim())
    throw new ConfigError('PAYLOAD_ENCRYPTION=off but PAYLOAD_ENCRYPTION_KEY is set: unset one of them.');
  if (!localTemporal && encryption === 'on' && !env.PAYLOAD_ENCRYPTION_KEY?.trim())
    throw new ConfigError(
      `TEMPORAL_ADDRESS=${env.TEMPORAL_ADDRESS?.trim()} is set, so the schedule and runs go to that deployment, and payloads are encrypted by default: set PAYLOAD_ENCRYPTION_KEY and PAYLOAD_ENCRYPTION_KEY_ID to its workers' values (and CODEC_SERVER_TOKEN for the codec server), or PAYLOAD_ENCRYPTION=off if it does not encrypt.`,
    );
  return encryption === 'on';
}

/** Starts everything, runs the first run; with `once`, stops and resolves with the run's exit code. */
async function run(once: boolean, stopping: Stopping): Promise<number> {
  const env = process.env;
  // The AWS SDK is pinned to a release that supports Node 20 (README, "Requirements").
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dataDir = localDataDir(env);
  // Validate what we can before starting anything.
  const stack = loadLocalStackConfig(env);
  const encrypt = checkEncryption(env, stack.local.temporal);
  const feedConfig = loadFeedConfig(env);
  const parts = await startLocalParts(stack, feedConfig, dataDir, encrypt, stopping.servers, env);
  // Like every server of the local stack, the metrics endpoint listens on loopback unless told otherwise.
  if (!env.METRICS_BIND?.trim()) parts.overrides.METRICS_BIND = '127.0.0.1';
  const config = loadConfig(env, parts.overrides);
  // Lets the project's CLI find this stack (address, codec server) without any setting.
  if (stack.local.temporal)
    writeLocalStackInfo(dataDir, {
      temporalAddress: config.temporal.address,
      namespace: config.temporal.namespace,
      ...(parts.codecUrl ? { codecUrl: parts.codecUrl } : {}),
      ...(parts.uiUrl ? { uiUrl: parts.uiUrl } : {}),
    });
  await prepareLanding(config, stack.local.objects, dataDir);
  const services = await startServices(config, feedConfig, parts.databaseUrl, parts.codec);
  stopping.services = services.stop;
  const userUrl = feedConfig.databaseUrl;
  const landed = landedDir(config, stack.local.objects, dataDir);
  const code = await firstRun(config, services, {
    ...(parts.uiUrl ? { uiUrl: parts.uiUrl } : {}),
    ...(parts.codecUrl ? { codecUrl: parts.codecUrl } : {}),
    // A DATABASE_URL of the user's may hold a password: the command names the variable instead.
    psql:
      userUrl && maskUrlPassword(userUrl) !== userUrl ? 'psql "$DATABASE_URL"' : `psql ${parts.databaseUrl}`,
    ...(landed ? { landedDir: landed } : {}),
  });
  if (once) {
    await stopping.stop();
    return code;
  }
  console.log('serving the hourly schedule; Ctrl-C stops everything');
  // The signal handler stops everything and exits.
  return await new Promise<never>(() => undefined);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { once: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  // Everything this process starts, stopped in order (Ctrl-C, SIGTERM, --once, or a failure).
  const stopping = new Stopping();
  stopping.handleSignals();
  try {
    return await run(values.once ?? false, stopping);
  } catch (err) {
    await stopping.stop();
    throw err;
  }
}

exitWith(main);
