/**
 * What `npm start` writes never trips `npm test` in the same checkout: every generated folder
 * is ignored by git, eslint and prettier.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ESLint } from 'eslint';
import * as prettier from 'prettier';

/** Folders the project's own commands write into. */
const GENERATED = ['node_modules', '.tools', '.data', '.build', 'bench-results'];

describe('generated folders', () => {
  const gitignore = readFileSync('.gitignore', 'utf8').split('\n');
  for (const dir of GENERATED) {
    it(`${dir}/ is ignored by git, eslint and prettier`, async () => {
      assert.ok(gitignore.includes(`${dir}/`), `.gitignore lists ${dir}/`);
      assert.ok(await new ESLint().isPathIgnored(`${dir}/workflows-abc.js`), `eslint ignores ${dir}/`);
      const info = await prettier.getFileInfo(`${dir}/workflows-abc.js`, { ignorePath: '.prettierignore' });
      assert.ok(info.ignored, `prettier ignores ${dir}/`);
    });
  }
});
