/**
 * Workers run JavaScript compiled from the sources (scripts/build.mjs), never a stale copy:
 * the compiled tree follows every source change, and `npm run worker` runs it with plain node.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { JS_DIR, compile, compiledPath } from '../scripts/build.mjs';
import { ROOT } from '../scripts/stack.js';
import { workerNodeFlags } from '../scripts/worker-command.js';

describe('compiled workers (scripts/build.mjs)', function () {
  this.timeout(60_000);

  it('npm run worker compiles src/ first, then runs .build/js/src/worker.js with plain node and its heap bound', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.equal(
      pkg.scripts.worker,
      `node scripts/build.mjs --quiet && node ${workerNodeFlags().join(' ')} ${relative(ROOT, compiledPath('src/worker.ts'))}`,
    );
    assert.deepEqual(workerNodeFlags(), ['--max-old-space-size=320']);
    assert.doesNotMatch(pkg.scripts.worker, /tsx/);
    assert.doesNotMatch(pkg.scripts.feed ?? '', /tsx/);
  });

  it('recompiles when a source file changes, and only then; the compiled worker module loads', async () => {
    compile();
    assert.equal(compile(), false, 'up to date: nothing to do');
    const probe = join(ROOT, 'src', 'shared', `build-probe-${process.pid}.ts`);
    try {
      writeFileSync(probe, 'export const PROBE: number = 41 + 1;\n');
      assert.equal(compile(), true, 'a new source file is compiled');
      const js = compiledPath(relative(ROOT, probe));
      assert.ok(existsSync(js), `${js} exists`);
      const mod = (await import(js)) as { PROBE: number };
      assert.equal(mod.PROBE, 42);
    } finally {
      rmSync(probe, { force: true });
    }
    assert.equal(compile(), true, 'a removed source file is compiled away');
    assert.ok(!existsSync(join(JS_DIR, 'src', 'shared', `build-probe-${process.pid}.js`)));
    // The compiled worker resolves its imports and the project's folders from .build/js, wherever it starts.
    const elsewhere = mkdtempSync(join(tmpdir(), 'build-cwd-'));
    const out = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(compiledPath('src/node/root.ts'))}); console.log(m.PROJECT_ROOT);`,
      ],
      { encoding: 'utf8', cwd: elsewhere },
    );
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trim(), ROOT);
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it('the compiled tree carries the plain-JavaScript modules of src/ that compiled modules import', () => {
    compile();
    // src/workflow-bundle.ts imports src/node/fingerprint.mjs, as scripts/build.mjs does: one
    // fingerprint for both builds. With plain node, from another folder, the compiled module loads.
    assert.equal(
      readFileSync(join(JS_DIR, 'src', 'node', 'fingerprint.mjs'), 'utf8'),
      readFileSync(join(ROOT, 'src', 'node', 'fingerprint.mjs'), 'utf8'),
    );
    const out = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(compiledPath('src/workflow-bundle.ts'))}); console.log(typeof m.workflowBundle);`,
      ],
      { encoding: 'utf8', cwd: tmpdir() },
    );
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trim(), 'function');
  });
});
