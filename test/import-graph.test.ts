/**
 * Imports point one way (docs/architecture.md, "Code layout"): no circle among src/ files, type
 * imports included. The layers themselves are ESLint rules (eslint.config.js); this test catches
 * what a per-folder rule cannot, a circle inside one layer or through files of several.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../scripts/stack.js';
import { circlesUnder, importGraph, importSpecifiers } from './helpers/import-graph.js';

describe('import graph', () => {
  it('has no import circle among the files of src/', () => {
    const circles = circlesUnder(join(ROOT, 'src'), ROOT);
    assert.deepEqual(
      circles,
      [],
      `import circles (each line: the files that import one another, type imports included):\n${circles
        .map((c) => `  ${c.join(' ')}`)
        .join('\n')}`,
    );
  });

  it("no module of src/ imports the local stack's settings: only scripts/ read them", () => {
    const localStack = join(ROOT, 'src', 'config', 'local-stack.ts');
    const importers = [...importGraph(join(ROOT, 'src'))]
      .filter(([, targets]) => targets.includes(localStack))
      .map(([file]) => file);
    assert.deepEqual(importers, [], 'production code loads src/config/local-stack.ts');
    assert.ok(
      importSpecifiers(join(ROOT, 'scripts', 'start.ts')).includes('../src/config/local-stack.js'),
      'npm start reads the local stack',
    );
  });

  describe('the detector', () => {
    let dir: string;
    const write = (files: Record<string, string>) => {
      for (const [name, text] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), text);
      }
    };
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'import-graph-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('names the files of a circle closed by a type import, and only those', () => {
      write({
        'src/a/one.ts': "import { two } from '../b/two.js';\nexport const one = two + 1;\n",
        'src/b/two.ts': "import type { Three } from './three.js';\nexport const two: Three = 2;\n",
        'src/b/three.ts': "export type { One } from '../a/types.js';\nexport type Three = number;\n",
        'src/a/types.ts': "import { one } from './one.js';\nexport type One = typeof one;\n",
        'src/c/alone.ts': "import { one } from '../a/one.js';\nexport const alone = one;\n",
      });
      assert.deepEqual(circlesUnder(join(dir, 'src'), dir), [
        ['src/a/one.ts', 'src/a/types.ts', 'src/b/three.ts', 'src/b/two.ts'],
      ]);
    });

    it('finds a file that imports itself, and two separate circles', () => {
      write({
        'src/self.ts': "import type { X } from './self.js';\nexport type Y = X;\nexport type X = 1;\n",
        'src/p.ts': "import { q } from './q.js';\nexport const p = () => q;\n",
        'src/q.ts': "import { p } from './p.js';\nexport const q = () => p;\n",
        'src/r.mjs': "import { s } from './s.mjs';\nexport const r = s;\n",
        'src/s.mjs': "export * from './r.mjs';\nexport const s = 1;\n",
      });
      assert.deepEqual(circlesUnder(join(dir, 'src'), dir), [
        ['src/p.ts', 'src/q.ts'],
        ['src/r.mjs', 'src/s.mjs'],
        ['src/self.ts'],
      ]);
    });

    it('reads every form of static import, and no import written in a comment or string', () => {
      write({
        'src/forms.ts': [
          '/** import { no } from "./comment.js"; */',
          "import a, { type B } from './a.js';",
          "import type { C } from './c.js';",
          "import * as d from './d.js';",
          "import './e.js';",
          "import f = require('./f.js');",
          "export { g } from './g.js';",
          "export type { H } from './h.js';",
          "export * from 'pkg';",
          'const text = "import x from \'./string.js\'";',
          'export {};',
        ].join('\n'),
      });
      assert.deepEqual(importSpecifiers(join(dir, 'src/forms.ts')), [
        './a.js',
        './c.js',
        './d.js',
        './e.js',
        './f.js',
        './g.js',
        './h.js',
        'pkg',
      ]);
    });

    it('fails on a relative import that names no file rather than missing an edge', () => {
      write({ 'src/a.ts': "import { b } from './b.js';\nexport const a = b;\n" });
      assert.throws(() => importGraph(join(dir, 'src')), /src\/a\.ts: the import '\.\/b\.js' names no file/);
    });
  });
});
