/**
 * Lossless JSON for vendor answers. `JSON.parse` turns every number into a double, so
 * 9007199254740993 becomes 9007199254740992 and 12345678901234567890 loses its last digits;
 * it also keeps the last of two duplicate keys without a word. This parser keeps every
 * number a double cannot hold exactly as an `ExactNumber` (its digits as sent), and remembers
 * which objects had duplicate keys, so the validation can set such a record aside instead
 * of storing a guess. It is iterative, so no nesting depth can overflow the stack.
 *
 * Shared by the vendor client (parse), the store (exact numbers to DynamoDB) and the
 * content hash (stable text, ./json-text.ts), so a record compares and stores by its real value.
 */

/** A JSON number that a double cannot hold exactly (beyond 2^53, too many digits, out of range). */
export class ExactNumber {
  /** The number as the vendor sent it. */
  readonly text: string;
  readonly negative: boolean;
  /** Significant digits without leading or trailing zeros ('' for zero). */
  readonly digits: string;
  /** Value = digits x 10^scale (a double: exact up to 2^53, ordered beyond). */
  readonly scale: number;
  /** The scale's exact decimal text, for the canonical form. */
  readonly scaleText: string;

  constructor(text: string) {
    const d = decimalOf(text);
    if (!d) throw new Error(`not a JSON number: ${text.slice(0, 40)}`);
    this.text = text;
    this.negative = d.negative;
    this.digits = d.digits;
    this.scale = d.scale;
    this.scaleText = d.scaleText;
  }

  /** True when the value has no fractional part. */
  get isInteger(): boolean {
    return this.digits === '' || this.scale >= 0;
  }

  /** A canonical form: equal values give equal text (`-123e4`), used for hashes and comparison. */
  get canonical(): string {
    return this.digits === '' ? '0' : `${this.negative ? '-' : ''}${this.digits}e${this.scaleText}`;
  }

  toJSON(): string {
    return this.text;
  }

  toString(): string {
    return this.text;
  }
}

interface Decimal {
  negative: boolean;
  digits: string;
  scale: number;
  scaleText: string;
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** The decimal value of a JSON number's text, or undefined when it is not one. */
function decimalOf(text: string): Decimal | undefined {
  const m = NUMBER.exec(text);
  if (!m) return undefined;
  const int = m[1] ?? '';
  const frac = (m[2] ?? '').slice(1);
  const all = (int + frac).replace(/^0+/, '');
  const digits = all.replace(/0+$/, '');
  if (digits === '') return { negative: false, digits: '', scale: 0, scaleText: '0' };
  // The exponent may have any number of digits: exact as a BigInt, ordered as a double.
  const exp = m[3] ? BigInt(m[3].slice(1)) : 0n;
  const scale = exp - BigInt(frac.length) + BigInt(all.length - digits.length);
  return { negative: text.startsWith('-'), digits, scale: Number(scale), scaleText: String(scale) };
}

function sameDecimal(a: Decimal, b: Decimal): boolean {
  return a.negative === b.negative && a.digits === b.digits && a.scaleText === b.scaleText;
}

/** The number of a JSON number token: a double when it holds the value exactly, else an ExactNumber. */
export function numberOf(text: string): number | ExactNumber {
  const n = Number(text);
  // An integer past 2^53 may happen to be a double, but its neighbours are not: keep its digits.
  if (Number.isFinite(n) && !(Number.isInteger(n) && !Number.isSafeInteger(n))) {
    // Most numbers are short integers: no need to compare digits.
    if (Number.isSafeInteger(n) && text.length < 16 && !/[.eE]/.test(text)) return n;
    const a = decimalOf(text);
    const b = decimalOf(String(n));
    if (a && b && sameDecimal(a, b)) return n;
  }
  return new ExactNumber(text);
}

/** Largest number of significant digits DynamoDB keeps. */
const DYNAMO_NUMBER_DIGITS = 38;

/**
 * Why DynamoDB cannot store this number exactly, or undefined when it can: at most 38
 * significant digits, magnitude from 1E-130 to below 1E+126.
 */
export function dynamoNumberProblem(value: number | ExactNumber): string | undefined {
  const d = typeof value === 'number' ? decimalOf(String(value)) : value;
  if (!d) return `${String(value)} is not a finite number`;
  if (d.digits === '') return undefined;
  const text = typeof value === 'number' ? String(value) : value.text;
  if (d.digits.length > DYNAMO_NUMBER_DIGITS)
    return `number ${shorten(text)} has ${d.digits.length} significant digits (DynamoDB keeps ${DYNAMO_NUMBER_DIGITS})`;
  const lead = d.digits.length - 1 + d.scale;
  if (lead > 125 || lead < -130)
    return `number ${shorten(text)} is outside DynamoDB's range (1E-130 to 9.99E+125)`;
  return undefined;
}

function shorten(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The decimal digits of a non-negative integer id (a number or an ExactNumber), or
 * undefined when it is not one or has more than 38 digits. Ids become string keys.
 */
export function idDigits(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? String(value) : undefined;
  if (!(value instanceof ExactNumber) || value.negative || !value.isInteger) return undefined;
  if (value.digits === '') return '0';
  if (value.digits.length + value.scale > DYNAMO_NUMBER_DIGITS) return undefined;
  return value.digits + '0'.repeat(value.scale);
}

/** Objects (and arrays) that hold, at any depth, something a record cannot be trusted with. */
const problems = new WeakMap<object, string>();
/** Objects that themselves have a duplicate or `__proto__` key (not only somewhere inside). */
const ownProblems = new WeakMap<object, string>();

/**
 * Why a parsed value cannot be trusted as sent, or undefined: an object with the same key
 * twice (which value did the vendor mean?) or a `__proto__` key, at any depth.
 */
export function parseProblem(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? problems.get(value) : undefined;
}

/**
 * Why this object itself (not something inside it) cannot be trusted as sent, or undefined:
 * for envelopes, where a record's problem inside must not condemn the whole answer.
 */
export function ownParseProblem(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? ownProblems.get(value) : undefined;
}

/** A JSON text that does not parse; `position` is the offset of the first bad character. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

type Container =
  | { kind: 'array'; value: unknown[] }
  | { kind: 'object'; value: Record<string, unknown>; key: string | undefined; seen: Set<string> };

/** True when a string token holds a raw control character (JSON requires them escaped). */
function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) return true;
  return false;
}

/** A byte that was not UTF-8, as decodeUtf8Escaped (./utf8.ts) writes it: a lone low surrogate. */
export const UNDECODED_BYTE = /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/;
const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/**
 * Parses JSON text as the vendor sent it: numbers that a double cannot hold exactly become
 * ExactNumber, objects with duplicate keys are flagged (see parseProblem). Throws
 * JsonSyntaxError for anything that is not one JSON value. `undecodedBytes`: the text holds
 * bytes that were not UTF-8 (decodeUtf8Escaped); an object or array with such a string is flagged.
 */
// One function on purpose: an iterative state machine over `pos` and `stack` (no recursion, any depth).
export function parseExactJson(text: string, options: { undecodedBytes?: boolean } = {}): unknown {
  let notText = false;
  let pos = 0;
  const stack: Container[] = [];
  let result: unknown;
  let done = false;

  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at position ${pos}`, pos);
  };
  const skip = () => {
    WHITESPACE.lastIndex = pos;
    WHITESPACE.exec(text);
    pos = WHITESPACE.lastIndex;
  };
  const readString = (): string => {
    // Find the closing quote, then let the native parser decode (and validate) the escapes.
    let i = pos + 1;
    for (;;) {
      const q = text.indexOf('"', i);
      if (q < 0) fail('unterminated string');
      let backslashes = 0;
      for (let j = q - 1; j > pos && text.charCodeAt(j) === 92; j--) backslashes++;
      if (backslashes % 2 === 0) {
        const raw = text.slice(pos, q + 1);
        notText = options.undecodedBytes === true && UNDECODED_BYTE.test(raw);
        let s: string;
        if (!raw.includes('\\') && !hasControlCharacter(raw)) s = raw.slice(1, -1);
        else {
          try {
            s = JSON.parse(raw) as string;
          } catch {
            return fail('invalid string');
          }
        }
        pos = q + 1;
        return s;
      }
      i = q + 1;
    }
  };
  const markOwnProblem = (container: object, problem: string) => {
    if (!ownProblems.has(container)) ownProblems.set(container, problem);
    markProblem(container, problem);
  };
  const markProblem = (container: object, problem: string) => {
    if (!problems.has(container)) problems.set(container, problem);
  };
  /** Puts a finished value into its parent (or makes it the result). */
  const emit = (value: unknown) => {
    const top = stack[stack.length - 1];
    if (!top) {
      result = value;
      done = true;
      return;
    }
    const childProblem = parseProblem(value);
    if (childProblem) markProblem(top.value, childProblem);
    if (top.kind === 'array') top.value.push(value);
    else {
      const key = top.key as string;
      if (top.seen.has(key))
        markOwnProblem(top.value, `the key ${JSON.stringify(key)} appears twice in one object`);
      top.seen.add(key);
      if (key === '__proto__') {
        markOwnProblem(top.value, 'a key named "__proto__" cannot be kept as data');
        Object.defineProperty(top.value, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else top.value[key] = value;
      top.key = undefined;
    }
  };

  skip();
  while (!done) {
    const top = stack[stack.length - 1];
    // Inside an object, a key comes before every value.
    if (top?.kind === 'object' && top.key === undefined) {
      if (text[pos] === '}' && top.seen.size === 0) {
        pos++;
        stack.pop();
        emit(top.value);
        afterValue();
        continue;
      }
      if (text[pos] !== '"') fail('expected a string key');
      top.key = readString();
      if (notText) markOwnProblem(top.value, `a key ${JSON.stringify(top.key)} is not valid UTF-8`);
      skip();
      if (text[pos] !== ':') fail('expected ":"');
      pos++;
      skip();
    }
    const c = text[pos];
    if (c === '{') {
      pos++;
      stack.push({ kind: 'object', value: {}, key: undefined, seen: new Set() });
      skip();
      continue;
    }
    if (c === '[') {
      pos++;
      const arr: unknown[] = [];
      skip();
      if (text[pos] === ']') {
        pos++;
        emit(arr);
        afterValue();
        continue;
      }
      stack.push({ kind: 'array', value: arr });
      continue;
    }
    if (c === '"') {
      const s = readString();
      if (notText && top) {
        const what = top.kind === 'array' ? 'an element' : `the value of ${JSON.stringify(top.key)}`;
        markOwnProblem(top.value, `${what} is not valid UTF-8`);
      }
      emit(s);
    } else if (text.startsWith('true', pos)) {
      pos += 4;
      emit(true);
    } else if (text.startsWith('false', pos)) {
      pos += 5;
      emit(false);
    } else if (text.startsWith('null', pos)) {
      pos += 4;
      emit(null);
    } else {
      NUMBER_TOKEN.lastIndex = pos;
      const m = NUMBER_TOKEN.exec(text);
      if (!m) fail(pos >= text.length ? 'unexpected end of JSON' : 'unexpected character');
      pos = NUMBER_TOKEN.lastIndex;
      emit(numberOf((m as RegExpExecArray)[0]));
    }
    afterValue();
  }
  skip();
  if (pos < text.length) fail('unexpected text after the JSON value');
  return result;

  /** After a value: a comma (next element) or the container's end, possibly closing several. */
  function afterValue(): void {
    for (;;) {
      skip();
      const top = stack[stack.length - 1];
      if (!top) return;
      const c = text[pos];
      if (c === ',') {
        pos++;
        skip();
        if (top.kind === 'object' && text[pos] !== '"') fail('expected a string key');
        return;
      }
      if ((top.kind === 'array' && c === ']') || (top.kind === 'object' && c === '}')) {
        pos++;
        stack.pop();
        emit(top.value);
        if (done) return;
        continue;
      }
      fail(
        pos >= text.length
          ? 'unexpected end of JSON'
          : `expected "," or "${top.kind === 'array' ? ']' : '}'}"`,
      );
    }
  }
}
