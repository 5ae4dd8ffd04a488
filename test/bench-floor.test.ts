/**
 * The orchestration-floor benchmark (`npm run bench:floor`, BENCHMARKS.md "Orchestration
 * cost") runs the cascade's shape end to end on a real dev server and reports what it measured;
 * a bad argument is refused with its name.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ROOT } from '../scripts/stack.js';

function floor(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bench/floor/floor.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 170_000,
  });
}

describe('npm run bench:floor', function () {
  this.timeout(180_000);

  it('runs parent -> 2 branches -> 3 salespersons each -> one activity each, and prints CPU and requests per salesperson', () => {
    const out = floor(['--quota', '50', '--branches', '2', '--salespersons', '3']);
    assert.equal(out.status, 0, out.stderr + out.stdout);
    assert.match(out.stdout, /orchestration floor: 2 branches x 3 salespersons, quota 50\/s/);
    assert.match(
      out.stdout,
      /CPU ms per salesperson: temporal \/ worker\s+\d+\.\d \/ \d+\.\d; together \d+\.\d/,
    );
    // Six salespersons, one activity each, completed through the server.
    const completed = /RespondActivityTaskCompleted\s+(\d+)/.exec(out.stdout);
    assert.ok(completed, out.stdout);
    assert.equal(Number(completed[1]), 6);
  });

  it('refuses a quota that is not a positive integer, naming the option', () => {
    const out = floor(['--quota', 'fast']);
    assert.notEqual(out.status, 0);
    assert.match(out.stderr, /--quota must be a positive integer, got "fast"/);
  });
});
