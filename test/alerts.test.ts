/**
 * The alert rules (ops/prometheus/alerts.yml) with Prometheus's own tool: `promtool check rules`,
 * `promtool test rules` on their unit tests (alerts.test.yml, synthetic series), and `promtool
 * check config` on the example Prometheus configuration. promtool comes from `npm run setup`
 * (.tools/bin/promtool, built from tools/promtool) or PROMTOOL_PATH; without it these tests fail
 * and say how to get it: they are never skipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, TOOLS } from '../scripts/stack.js';
import { readmeQueries } from './helpers/prometheus.js';

const RULES_DIR = join(ROOT, 'ops', 'prometheus');

function promtool(): string {
  const path = process.env.PROMTOOL_PATH?.trim() || join(TOOLS, 'bin', 'promtool');
  if (!existsSync(path))
    throw new Error(
      `promtool is missing (${path}): run \`npm run setup\` (it builds promtool from its Go module with Go 1.25+, see docs/development.md) or set PROMTOOL_PATH to a promtool binary. The alert rule tests cannot run without it.`,
    );
  return path;
}

/** Runs promtool in `cwd` (rule files name each other relative to it). */
function run(args: string[], cwd = RULES_DIR): { code: number | null; out: string } {
  const r = spawnSync(promtool(), args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('alert rules (promtool)', () => {
  it('promtool check rules: alerts.yml is valid', () => {
    const r = run(['check', 'rules', 'alerts.yml']);
    assert.equal(r.code, 0, r.out);
    const alerts = readFileSync(join(RULES_DIR, 'alerts.yml'), 'utf8').match(/^\s+- alert: /gm)?.length;
    assert.match(r.out, new RegExp(`SUCCESS: ${alerts} rules found`));
  });

  it('promtool test rules: every alert fires and clears as its unit tests say', () => {
    const r = run(['test', 'rules', 'alerts.test.yml']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
    const tested = new Set(
      [...readFileSync(join(RULES_DIR, 'alerts.test.yml'), 'utf8').matchAll(/alertname: (\w+)/g)].map(
        (m) => m[1],
      ),
    );
    const alerts = [...readFileSync(join(RULES_DIR, 'alerts.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map(
      (m) => m[1],
    );
    assert.deepEqual(
      alerts.filter((a) => !tested.has(a)),
      [],
      'every alert has a unit test',
    );
  });

  it('the rule tests can fail: with a set-aside threshold of 20 instead of 10, promtool test rules fails', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alerts-'));
    try {
      cpSync(RULES_DIR, dir, { recursive: true });
      const rules = readFileSync(join(dir, 'alerts.yml'), 'utf8');
      const changed = rules.replace('{outcome="set_aside"}[1h])) > 10', '{outcome="set_aside"}[1h])) > 20');
      assert.notEqual(changed, rules);
      writeFileSync(join(dir, 'alerts.yml'), changed);
      const r = run(['test', 'rules', 'alerts.test.yml'], dir);
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /SalesSyncSetAsideHigh/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the README's queries, one per alert, are valid PromQL (promtool check rules)", () => {
    const queries = readmeQueries(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    assert.equal(queries.length, 5, queries.join('\n'));
    const dir = mkdtempSync(join(tmpdir(), 'readme-rules-'));
    try {
      const rules = queries
        .map((q, i) => `      - record: readme:query${i}\n        expr: '${q}'`)
        .join('\n');
      writeFileSync(join(dir, 'readme.yml'), `groups:\n  - name: readme\n    rules:\n${rules}\n`);
      const r = run(['check', 'rules', 'readme.yml'], dir);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /SUCCESS: 5 rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('promtool check config: the example Prometheus configuration loads the rules', () => {
    const r = run(['check', 'config', 'prometheus.yml']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: 1 rule files found/);
  });
});
