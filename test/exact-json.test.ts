/** The lossless JSON parser and its canonical text: exactly JSON.parse's values, with every digit kept. */
import assert from 'node:assert/strict';
import {
  ExactNumber,
  dynamoNumberProblem,
  ownParseProblem,
  parseExactJson,
  parseProblem,
} from '../src/shared/exact-json.js';
import { stableStringify } from '../src/shared/json-text.js';
import { truncateText, wellFormedText } from '../src/store/storable.js';
import { resetRunIdOf } from '../src/workflows/branch-sync.js';

describe('lossless JSON', () => {
  it('gives the values JSON.parse gives for seeded random documents', () => {
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const gen = (d: number): unknown => {
      const r = rnd();
      if (d > 4 || r < 0.3) {
        const k = rnd();
        if (k < 0.3) return Math.floor(rnd() * 1e6) - 5e5;
        if (k < 0.5) return rnd() * 1000;
        if (k < 0.7) return `s"\\\n\u00e9\u2028${rnd()}`;
        return k < 0.8 ? null : k < 0.9;
      }
      if (r < 0.65) return Array.from({ length: Math.floor(rnd() * 4) }, () => gen(d + 1));
      const o: Record<string, unknown> = {};
      for (let i = 0; i < rnd() * 4; i++) o[`k${Math.floor(rnd() * 10)}`] = gen(d + 1);
      return o;
    };
    for (let i = 0; i < 3000; i++) {
      const text = JSON.stringify(gen(0), null, i % 2 ? 2 : undefined);
      assert.deepEqual(parseExactJson(text), JSON.parse(text), text);
    }
  });

  it('refuses what JSON.parse refuses', () => {
    for (const bad of [
      '',
      '[1,]',
      '{"a":1,}',
      '01',
      '[1 2]',
      '{"a"}',
      'tru',
      '"abc',
      '{"a":1}x',
      '[',
      '"\u0001"',
      '-',
      '1.',
      '.5',
      '[1,,2]',
    ]) {
      assert.throws(() => JSON.parse(bad));
      assert.throws(() => parseExactJson(bad), bad);
    }
  });

  it('keeps every digit a double cannot hold, and compares by value', () => {
    const v = parseExactJson(
      '[12345678901234567890, 9007199254740993, 9007199254740992, 0.1, 1e400]',
    ) as unknown[];
    assert.ok(v[0] instanceof ExactNumber && v[0].text === '12345678901234567890');
    assert.ok(
      v[1] instanceof ExactNumber && v[2] instanceof ExactNumber,
      'integers past 2^53 keep their digits',
    );
    assert.equal(v[3], 0.1);
    assert.match(dynamoNumberProblem(v[4] as ExactNumber) ?? '', /outside DynamoDB's range/);
    // Huge exponents: zero stays zero, different digits stay different.
    const [zero, two, three] = parseExactJson(
      '[0e99999999999999999999, 2e99999999999999999999, 3e99999999999999999999]',
    ) as ExactNumber[];
    assert.equal(stableStringify(zero), '0');
    assert.equal(dynamoNumberProblem(zero as ExactNumber), undefined);
    assert.notEqual(stableStringify(two), stableStringify(three));
    assert.equal(
      stableStringify(parseExactJson('{"b":1.50,"a":[1e2]}')),
      stableStringify(parseExactJson('{"a":[100],"b":1.5}')),
    );
  });

  it('flags duplicate keys on the record and, for envelopes, on the object itself', () => {
    const env = parseExactJson('{"result":{"sales":[{"id":1,"id":2}],"employee_id":5}}') as {
      result: { sales: unknown[] };
    };
    assert.match(parseProblem(env.result.sales[0]) ?? '', /the key "id" appears twice/);
    assert.equal(ownParseProblem(env.result), undefined, 'a bad record does not condemn its envelope');
    const twice = parseExactJson('{"result":{"employee_id":6,"employee_id":5}}') as { result: unknown };
    assert.match(ownParseProblem(twice.result) ?? '', /the key "employee_id" appears twice/);
  });

  it('parses any nesting depth without recursion', () => {
    const depth = 200_000;
    assert.doesNotThrow(() => parseExactJson(`${'['.repeat(depth)}${']'.repeat(depth)}`));
  });

  it("never cuts a surrogate pair when shortening a text, and mends lone surrogates in the pipeline's own texts", () => {
    const cut = truncateText(`${'a'.repeat(9)}😀tail`, 10);
    assert.ok(cut.startsWith('a'.repeat(9)) && !cut.includes('\uD83D'), cut);
    assert.equal(wellFormedText('field \uD800 name'), 'field \uFFFD name');
  });

  it('a reset run uses its own run ID, even after a continue-as-new carried an older reset', () => {
    assert.equal(resetRunIdOf({ runId: 'b2', originalExecutionRunId: 'b' }, 'a2'), 'b2');
    assert.equal(resetRunIdOf({ runId: 'b', originalExecutionRunId: 'b' }, 'a2'), 'a2');
    assert.equal(resetRunIdOf({ runId: 'b', originalExecutionRunId: 'b' }, undefined), undefined);
  });
});
