/**
 * `src/client.ts` is the one place a Temporal client is made for client work (address, namespace,
 * TLS or API key, the codec): a second construction elsewhere would drift from it (a missing codec
 * reads payloads as unreadable, a missing namespace talks to the wrong one). Workers keep their
 * `NativeConnection`; tests may build raw clients of their own to inspect histories.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../scripts/stack.js';

/** A client construction: `new Client(` or `Connection.connect(` (not `NativeConnection.connect(`). */
const CONSTRUCTION = /\bnew Client\(|(?<!Native)\bConnection\.connect\(/;

/** The source files under `dir` (relative to the project root), sorted. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|mts|js|mjs|cjs)$/.test(f))
    .map((f) => join(dir, f))
    .sort();
}

describe('the Temporal client', () => {
  it('is constructed only in src/client.ts (src/ and scripts/)', () => {
    const elsewhere = [...sources('src'), ...sources('scripts')].filter(
      (f) => f !== join('src', 'client.ts') && CONSTRUCTION.test(readFileSync(join(ROOT, f), 'utf8')),
    );
    assert.deepEqual(
      elsewhere,
      [],
      `these files construct a Temporal client: use connectClient from src/client.ts instead:\n  ${elsewhere.join('\n  ')}`,
    );
  });

  it('is constructed in src/client.ts', () => {
    const text = readFileSync(join(ROOT, 'src', 'client.ts'), 'utf8');
    assert.match(text, /new Client\(/);
    assert.match(text, /(?<!Native)Connection\.connect\(/);
  });

  it('the scan sees a construction and passes over a worker connection', () => {
    assert.ok(CONSTRUCTION.test('const c = new Client({ connection });'));
    assert.ok(CONSTRUCTION.test('await Connection.connect(options)'));
    assert.ok(!CONSTRUCTION.test('await NativeConnection.connect(options)'));
  });
});
