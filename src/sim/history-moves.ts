/**
 * The simulator's moving history (docs/vendor-api.md, "History moves"): sales voided (no
 * longer listed, kept aside so they can come back), voided sales listed again, sales listed
 * late with an old timestamp, and corrections of old sales. A part of Dataset.mutate
 * (mutation.ts), on a random stream of its own so that naming these counts never changes what
 * the older steps of the same mutation choose.
 */
import { parseVendorTimestamp } from '../vendor-api/schemas.js';
import { appendSale, correctSale, drawSale, listedSalespersons } from './new-sale.js';
import { Prng } from './prng.js';
import type { DatasetView, SaleRecord } from './records.js';
import { HOUR_MS, PRODUCTS, byId } from './vocabulary.js';

const DAY_MS = 24 * HOUR_MS;
/** A late sale's timestamp lies this many days before `now`, at least… */
export const LATE_SALE_MIN_DAYS = 3;
/** …and at most. */
export const LATE_SALE_MAX_DAYS = 30;
/** An old correction changes a sale whose timestamp is more than this many days before `now`. */
export const OLD_CORRECTION_MIN_DAYS = 7;

/** Counts of each history move; each defaults to 0 in Dataset.mutate. */
export interface HistoryMoveOptions {
  /** Listed sales (of salespersons some branch lists) no longer listed; kept aside for `reappearances`. */
  voids: number;
  /** Sales voided by earlier mutations listed again, unchanged. */
  reappearances: number;
  /** New sales whose timestamp lies 3..30 days before `now` (listed late). */
  lateSales: number;
  /** Listed sales older than 7 days whose amount and quantity change (same id). */
  oldCorrections: number;
}

/** The option names of HistoryMoveOptions, in the order the moves are applied. */
export const HISTORY_MOVES = ['reappearances', 'voids', 'oldCorrections', 'lateSales'] as const;

/** A sale a history move touched, with its timestamp (so a test can tell which windows hold it). */
export interface DatedSaleChange {
  saleId: number;
  employeeId: number;
  transactionTimestamp: string;
}

/** Exactly what the history moves of one mutation changed; each list sorted by sale id, no sale in two lists. */
export interface HistoryMoveReport {
  /** Sales removed from their salesperson's list (kept aside in Dataset.voidedSales). */
  voids: DatedSaleChange[];
  /** Voided sales put back into their salesperson's list, unchanged. */
  reappearances: DatedSaleChange[];
  /** New sale ids with an old timestamp, appended to their salesperson's list. */
  lateSales: DatedSaleChange[];
  /** Sales older than 7 days whose amount and quantity changed (nothing else). */
  oldCorrections: DatedSaleChange[];
}

/** What the history moves work on: the mutation's options and the sales its older steps touched. */
export interface HistoryMoveInput {
  options: HistoryMoveOptions & { seed: number; now: number };
  /** Sale ids the mutation already added or corrected: never touched twice. */
  touched: Set<number>;
  /** The next free sale id. */
  firstSaleId: number;
}

interface Move {
  data: DatasetView;
  prng: Prng;
  now: number;
  touched: Set<number>;
}

/** Applies the history moves to `data`; returns what changed and the next free sale id. */
export function moveHistory(
  data: DatasetView,
  input: HistoryMoveInput,
): { report: HistoryMoveReport; nextSaleId: number } {
  const { options } = input;
  const m: Move = {
    data,
    prng: new Prng(options.seed, 5),
    now: options.now,
    touched: new Set(input.touched),
  };
  // Reappearances first: a sale voided now cannot come back in the same mutation.
  const reappearances = reappear(m, options.reappearances);
  const voids = voidSales(m, options.voids);
  const oldCorrections = correctOld(m, options.oldCorrections);
  const { lateSales, nextSaleId } = addLate(m, options.lateSales, input.firstSaleId);
  const sorted = (list: DatedSaleChange[]) => list.sort((a, b) => a.saleId - b.saleId);
  return {
    report: {
      voids: sorted(voids),
      reappearances: sorted(reappearances),
      lateSales: sorted(lateSales),
      oldCorrections: sorted(oldCorrections),
    },
    nextSaleId,
  };
}

function dated(employeeId: number, sale: SaleRecord): DatedSaleChange {
  return { saleId: sale.id, employeeId, transactionTimestamp: sale.transaction_timestamp };
}

/** Listed sales of salespersons some branch lists, not touched yet in this mutation. */
function candidates(m: Move, keep: (sale: SaleRecord) => boolean = () => true): [number, SaleRecord][] {
  const out: [number, SaleRecord][] = [];
  for (const [employeeId, sales] of m.data.salesBySalesperson) {
    if (m.data.branchesOf(employeeId).length === 0) continue;
    for (const s of sales) if (!m.touched.has(s.id) && keep(s)) out.push([employeeId, s]);
  }
  return out;
}

/** Voided sales listed again, unchanged, in sale-id order. */
function reappear(m: Move, count: number): DatedSaleChange[] {
  if (count === 0) return [];
  const voided: [number, SaleRecord][] = [];
  for (const [employeeId, sales] of m.data.voidedSales) for (const s of sales) voided.push([employeeId, s]);
  const changes: DatedSaleChange[] = [];
  for (const [employeeId, sale] of m.prng.sample(voided, count)) {
    moveSale(m.data.voidedSales, m.data.salesBySalesperson, employeeId, sale);
    // A salesperson with nothing kept aside has no entry (one with no listed sale keeps its empty list: 200, not 404).
    if (m.data.voidedSales.get(employeeId)?.length === 0) m.data.voidedSales.delete(employeeId);
    m.touched.add(sale.id);
    changes.push(dated(employeeId, sale));
  }
  return changes;
}

/** Moves a salesperson's sale from one list map to the other (listed <-> kept aside), in id order. */
function moveSale(
  from: Map<number, SaleRecord[]>,
  to: Map<number, SaleRecord[]>,
  employeeId: number,
  sale: SaleRecord,
): void {
  const source = from.get(employeeId) ?? [];
  source.splice(source.indexOf(sale), 1);
  const target = to.get(employeeId) ?? [];
  target.push(sale);
  target.sort(byId);
  to.set(employeeId, target);
}

/** Listed sales removed from their lists and kept aside. */
function voidSales(m: Move, count: number): DatedSaleChange[] {
  if (count === 0) return [];
  const changes: DatedSaleChange[] = [];
  for (const [employeeId, sale] of m.prng.sample(candidates(m), count)) {
    moveSale(m.data.salesBySalesperson, m.data.voidedSales, employeeId, sale);
    m.touched.add(sale.id);
    changes.push(dated(employeeId, sale));
  }
  return changes;
}

/** Sales older than OLD_CORRECTION_MIN_DAYS whose quantity and amount grow (same id). */
function correctOld(m: Move, count: number): DatedSaleChange[] {
  if (count === 0) return [];
  const before = m.now - OLD_CORRECTION_MIN_DAYS * DAY_MS;
  const old = candidates(m, (s) => (parseVendorTimestamp(s.transaction_timestamp) ?? m.now) < before);
  const changes: DatedSaleChange[] = [];
  for (const [employeeId, sale] of m.prng.sample(old, count)) {
    correctSale(m.prng, sale);
    m.touched.add(sale.id);
    changes.push(dated(employeeId, sale));
  }
  return changes;
}

/** New sales of listed salespersons with a timestamp LATE_SALE_MIN_DAYS..LATE_SALE_MAX_DAYS before `now`. */
function addLate(
  m: Move,
  count: number,
  firstSaleId: number,
): { lateSales: DatedSaleChange[]; nextSaleId: number } {
  const { data, prng } = m;
  const listed = listedSalespersons(data);
  const lowS = Math.ceil((m.now - LATE_SALE_MAX_DAYS * DAY_MS) / 1000);
  const highS = Math.floor((m.now - LATE_SALE_MIN_DAYS * DAY_MS) / 1000);
  const lateSales: DatedSaleChange[] = [];
  let nextSaleId = firstSaleId;
  for (let n = 0; n < count && listed.length > 0; n++) {
    const employeeId = prng.pick(listed);
    const product = prng.pick(PRODUCTS);
    const quantity = prng.int(1, 40);
    const sale = drawSale(
      prng,
      nextSaleId,
      product,
      quantity,
      { fromS: lowS, toS: highS },
      data.options.extraFields,
    );
    nextSaleId += prng.int(1, 4);
    appendSale(data, employeeId, sale);
    lateSales.push(dated(employeeId, sale));
  }
  return { lateSales, nextSaleId };
}
