/**
 * A generated sale, as the dataset, its mutations and its history moves make one: each draws its
 * salesperson, product and quantity (and its id step) in its own order, then this draws the rest;
 * and a correction of one. The order of the draws is part of what a seed produces: keep it.
 */
import { formatVendorTimestamp } from '../vendor-api/schemas.js';
import type { Prng } from './prng.js';
import type { DatasetView, SaleRecord } from './records.js';
import { CUSTOMERS, extraValue, formatCents, parseCents } from './vocabulary.js';

/** The sale `id` of `product` x `quantity`, at a second drawn in [fromS, toS], with its extra fields. */
export function drawSale(
  prng: Prng,
  id: number,
  [product, unitCents]: readonly [string, number],
  quantity: number,
  span: { fromS: number; toS: number },
  extraFields: number,
): SaleRecord {
  const sale: SaleRecord = {
    id,
    transaction_timestamp: formatVendorTimestamp(prng.int(span.fromS, span.toS) * 1000),
    amount: formatCents(unitCents * quantity),
    product,
    quantity,
    customer: prng.pick(CUSTOMERS),
  };
  for (let k = 1; k <= extraFields; k++) sale[`extra_${k}`] = extraValue(prng);
  return sale;
}

/** The salespersons some branch lists: those a new sale may go to. */
export function listedSalespersons(data: DatasetView): number[] {
  return [...data.salesBySalesperson.keys()].filter((id) => data.branchesOf(id).length > 0);
}

/** Lists `sale` among `employeeId`'s sales. */
export function appendSale(data: DatasetView, employeeId: number, sale: SaleRecord): void {
  const sales = data.salesBySalesperson.get(employeeId) ?? [];
  sales.push(sale);
  data.salesBySalesperson.set(employeeId, sales);
}

/** Corrects a sale in place: its quantity and amount grow, its id and the rest stay. */
export function correctSale(prng: Prng, sale: SaleRecord): void {
  sale.quantity += prng.int(1, 9);
  sale.amount = formatCents(parseCents(sale.amount) + prng.int(1, 5000));
}
