/**
 * The simulator's seeded fault injection: which fault (if any) an otherwise successful
 * list answer gets, the corrupted records of a badRecord fault, and the log of them.
 * Faults are drawn in a fixed order, so that a fault seed replays the same sequence.
 */
import type { RecordKind } from '../vendor-api/schemas.js';
import type { ListAnswer } from './answers.js';
import type { BadRecordKind, FaultKind, FaultRates, SimOptions } from './options.js';
import { checkBadRecordKinds, checkFaultRates, checkNumber, zeroFaults } from './options.js';
import { stripUndefined } from './dataset.js';
import { Prng } from './prng.js';

/** One record the simulator corrupted, so that a test can account for what a client set aside. */
export interface InjectedBadRecord {
  /** Epoch ms. */
  at: number;
  path: string;
  /** The request's query string, including the leading "?". */
  query: string;
  kind: BadRecordKind;
  recordKind: RecordKind;
  /** Id of the good record that was replaced. */
  originalId: number;
  /** For duplicateId: the id the corrupted copy carries. */
  duplicateOf?: number;
}

/** What becomes of a list answer once its faults are drawn. */
export type FaultOutcome =
  | { kind: 'drop' }
  | { kind: 'error5xx'; status: number }
  | { kind: 'answer'; extraDelayMs: number; text: string; contentType: string };

const HTML_PAGE =
  '<html><head><title>503 Service Temporarily Unavailable</title></head>' +
  '<body><h1>Service Temporarily Unavailable</h1><p>Please try again later.</p></body></html>';

const BAD_TIMESTAMPS: readonly string[] = [
  '2023-02-30 12:00:00',
  '2023-13-01 25:61:00',
  '01/02/2023 10:00',
  'yesterday',
];

/** The fault rates and settings of one simulator (changeable at run time), and what it injected. */
export class FaultInjector {
  #rates: FaultRates;
  #slowMs: number;
  #badRecordKinds: BadRecordKind[];
  #logLimit: number;
  #prng: Prng;
  #log: InjectedBadRecord[] = [];
  #noteFault: (kind: FaultKind) => void;

  /** `noteFault` is called once per injected fault (per record for badRecord). */
  constructor(options: SimOptions, noteFault: (kind: FaultKind) => void) {
    this.#rates = { ...zeroFaults(), ...stripUndefined(options.faults) };
    this.#slowMs = options.slowMs;
    this.#badRecordKinds = [...options.badRecordKinds];
    this.#logLimit = options.badRecordLogLimit;
    this.#prng = new Prng(options.faultSeed, 3);
    this.#noteFault = noteFault;
  }

  /** Changes some fault rates (0..1); kinds not named keep their rate. */
  setRates(rates: Partial<FaultRates>): void {
    this.#rates = { ...this.#rates, ...stripUndefined(checkFaultRates(rates)) };
  }

  /** The current fault rates. */
  rates(): FaultRates {
    return { ...this.#rates };
  }

  /** Changes the corruptions a badRecord fault may choose from. */
  setBadRecordKinds(kinds: BadRecordKind[]): void {
    checkBadRecordKinds(kinds);
    this.#badRecordKinds = [...kinds];
  }

  /** Changes the extra delay of a slow fault, ms. */
  setSlowMs(ms: number): void {
    checkNumber('slowMs', ms, 0);
    this.#slowMs = ms;
  }

  /** The records corrupted by badRecord faults, oldest first (bounded by badRecordLogLimit). */
  injectedBadRecords(): InjectedBadRecord[] {
    return structuredClone(this.#log);
  }

  /** Empties the injected-bad-record log. */
  clearLog(): void {
    this.#log = [];
  }

  /** Draws the faults of a list answer, in a fixed order, and returns what to send (or not). */
  apply(answer: ListAnswer): FaultOutcome {
    const f = this.#rates;
    const draw = (kind: FaultKind): boolean => {
      const hit = this.#prng.chance(f[kind]);
      if (hit) this.#noteFault(kind);
      return hit;
    };
    if (draw('drop')) return { kind: 'drop' };
    if (draw('error5xx')) return { kind: 'error5xx', status: this.#prng.pick([500, 502, 503]) };
    const slow = draw('slow');
    const html = draw('html');
    const nonJson = !html && draw('nonJson');
    const extraDelayMs = slow ? this.#slowMs : 0;
    if (html)
      return { kind: 'answer', extraDelayMs, text: HTML_PAGE, contentType: 'text/html; charset=utf-8' };
    // A body that will be cut in half is never read as records: corrupting records in it
    // would log bad records no client could ever see.
    const records = nonJson ? answer.records : this.#corrupt(answer);
    const payload = answer.wrap(records);
    if (answer.paging) {
      const repeat = draw('repeatToken');
      payload['next_page_token'] = repeat
        ? (answer.paging.sentToken ?? answer.paging.firstToken)
        : answer.paging.nextToken;
    }
    let text = JSON.stringify(payload);
    // Any proper prefix of a JSON object is invalid JSON, so half of it never parses.
    if (nonJson) text = text.slice(0, Math.floor(text.length / 2));
    return { kind: 'answer', extraDelayMs, text, contentType: 'application/json; charset=utf-8' };
  }

  #corrupt(answer: ListAnswer): unknown[] {
    const out: unknown[] = [];
    let previousIntact = false;
    answer.records.forEach((record, index) => {
      if (!this.#prng.chance(this.#rates.badRecord)) {
        out.push(record);
        previousIntact = true;
        return;
      }
      const previous = answer.records[index - 1];
      // A duplicate copies the id of the record before it only when that record went out
      // intact: copying the id of a record that was itself corrupted (say, its id removed)
      // would make a plausible record with another sale's content, which no client could
      // tell from the truth.
      const kinds = this.#badRecordKinds.filter(
        (k) =>
          (k !== 'badTimestamp' || answer.recordKind === 'sale') &&
          (k !== 'duplicateId' || (previous !== undefined && previousIntact)),
      );
      if (kinds.length === 0) {
        out.push(record);
        previousIntact = true;
        return;
      }
      previousIntact = false;
      const kind = this.#prng.pick(kinds);
      const copy: Record<string, unknown> = { ...record };
      const entry: InjectedBadRecord = {
        at: Date.now(),
        path: answer.path,
        query: answer.query,
        kind,
        recordKind: answer.recordKind,
        originalId: record.id,
      };
      switch (kind) {
        case 'missingId':
          delete copy['id'];
          break;
        case 'badTimestamp':
          copy['transaction_timestamp'] = this.#prng.pick(BAD_TIMESTAMPS);
          break;
        case 'stringNumber': {
          const field = { sale: 'quantity', branch: 'employees', employee: 'id' }[answer.recordKind];
          copy[field] = String(record[field]);
          break;
        }
        case 'duplicateId':
          copy['id'] = previous?.id;
          entry.duplicateOf = previous?.id;
          break;
      }
      this.#noteFault('badRecord');
      this.#log.push(entry);
      if (this.#log.length > this.#logLimit) this.#log.splice(0, this.#log.length - this.#logLimit);
      out.push(copy);
    });
    return out;
  }
}
