/**
 * The documentation stays true and short:
 * - README.md is at most 10 KB (details belong in docs/);
 * - every relative link in README.md, BENCHMARKS.md and docs/*.md points at a file that exists,
 *   and every anchor at a heading that exists (GitHub's slugs);
 * - every `npm run <script>` (and `npm start` / `npm test`) they mention is a script of package.json;
 * - every line that runs the project's CLI (`npm run cli -- ...`) names a command and options the
 *   CLI accepts: it is run with `--help` added, which parses it strictly without doing anything.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from '../scripts/stack.js';
import { main as cliMain } from '../src/cli/index.js';

const README_MAX_BYTES = 10_240;

const DOCS = [
  'README.md',
  'BENCHMARKS.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** The text outside fenced code blocks (links and headings live there). */
function prose(md: string): string {
  return md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const [, text] of prose(md).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = (text ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** Link targets of a Markdown file: inline links and images, outside code blocks and code spans. */
function links(md: string): string[] {
  const text = prose(md).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] ?? '');
}

/** Splits a shell command line into words (plain words, "double" and 'single' quotes). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const [, dq, sq, plain] of line.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g))
    words.push(dq !== undefined ? dq.replace(/\\(.)/g, '$1') : (sq ?? plain ?? ''));
  return words;
}

describe('the documentation', () => {
  it(`README.md is at most ${README_MAX_BYTES} bytes`, () => {
    const size = statSync(join(ROOT, 'README.md')).size;
    assert.ok(size <= README_MAX_BYTES, `README.md is ${size} bytes; move details to docs/`);
  });

  it('every relative link in README.md, BENCHMARKS.md and docs/*.md points at a file, and at a heading that exists', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of DOCS) {
      for (const target of links(read(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto: ...
        checked++;
        const [path = '', anchor] = target.split('#', 2);
        const abs = path ? resolve(ROOT, dirname(file), decodeURIComponent(path)) : join(ROOT, file);
        if (!abs.startsWith(ROOT) || !existsSync(abs)) {
          broken.push(`${file}: ${target} (no file ${relative(ROOT, abs)})`);
          continue;
        }
        if (anchor !== undefined) {
          if (!abs.endsWith('.md'))
            broken.push(`${file}: ${target} (an anchor into a file that is not Markdown)`);
          else if (!anchors(readFileSync(abs, 'utf8')).has(anchor))
            broken.push(`${file}: ${target} (no heading #${anchor} in ${relative(ROOT, abs)})`);
        }
      }
    }
    assert.deepEqual(broken, []);
    assert.ok(checked >= 20, `only ${checked} relative links found: is the link parser still right?`);
  });

  it('every npm script the README and docs/ mention is a script of package.json', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const missing: string[] = [];
    const named = new Set<string>();
    for (const file of DOCS) {
      const md = read(file);
      for (const m of md.matchAll(/\bnpm (?:run|run-script)\s+(?:(?:-s|--silent)\s+)?([a-z][\w:.-]*)/g))
        named.add(`${file}\0${m[1]}`);
      for (const m of md.matchAll(/\bnpm (start|test)\b/g)) named.add(`${file}\0${m[1]}`);
    }
    for (const entry of named) {
      const [file, script = ''] = entry.split('\0');
      if (!(script in scripts)) missing.push(`${file}: npm run ${script}`);
    }
    assert.deepEqual(missing, []);
    for (const s of ['start', 'test', 'cli', 'worker', 'bundle'])
      assert.ok(
        [...named].some((e) => e.endsWith(`\0${s}`)),
        `the docs mention npm ${s}`,
      );
  });

  it("every line that runs the project's CLI names a command and options the CLI accepts", async function () {
    this.timeout(60_000);
    const lines = new Map<string, string>();
    for (const file of DOCS) {
      // From `npm run [-s] cli --` to the end of the command: a comment, a code span, a quote or `)`.
      for (const m of read(file).matchAll(/\bnpm run (?:-s |--silent )?cli -- ([^\n#`)]*)/g)) {
        let args = (m[1] ?? '').trim();
        if (args.endsWith('"') && (args.match(/"/g) ?? []).length % 2 === 1) args = args.slice(0, -1).trim();
        lines.set(args, file);
      }
    }
    assert.ok(lines.size >= 10, `only ${lines.size} CLI lines found: is the pattern still right?`);
    const refused: string[] = [];
    const log = console.log;
    const error = console.error;
    for (const [args, file] of lines) {
      let out = '';
      console.log = (...a: unknown[]) => void (out += `${a.join(' ')}\n`);
      console.error = console.log;
      let code: number;
      try {
        code = await cliMain([...shellWords(args), '--help']);
      } finally {
        console.log = log;
        console.error = error;
      }
      if (code !== 0 || !/^usage: npm run cli -- /m.test(out))
        refused.push(`${file}: npm run cli -- ${args}\n  exit ${code}: ${out.trim().split('\n')[0]}`);
    }
    assert.deepEqual(refused, []);
  });
});
