/**
 * One schema per vendor record kind, written once: the activities validate every
 * record against these before it may be stored, and the simulator's tests check that
 * what the simulator serves conforms. Unknown fields are kept (`passthrough`): the
 * contract says every API field is stored.
 */
import { z } from 'zod';
import { ExactNumber, idDigits } from '../shared/exact-json.js';

/** `YYYY-MM-DD HH:MM:SS`, UTC, and a real calendar instant. */
const VENDOR_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Parses a vendor timestamp to epoch milliseconds, or returns undefined when it is not a real instant. */
export function parseVendorTimestamp(value: string): number | undefined {
  const m = VENDOR_TIMESTAMP.exec(value);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2023-02-30 over to March; a round trip catches that.
  return formatVendorTimestamp(ms) === value ? ms : undefined;
}

/** Formats epoch milliseconds as a vendor timestamp (UTC, seconds precision). */
export function formatVendorTimestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A vendor id: a non-negative integer of up to 38 digits, as a JSON number. Ids beyond 2^53
 * arrive as ExactNumber (parseExactJson) and keep every digit; keys are its decimal digits.
 */
const vendorId = z.custom<number | ExactNumber>((v) => idDigits(v) !== undefined, {
  message: 'not a non-negative integer id of at most 38 digits',
});

/** The key of a validated id: its decimal digits. */
export function idKey(id: number | ExactNumber): string {
  return idDigits(id) as string;
}

/** An integer field: a JSON integer, of any size (beyond 2^53 it is an ExactNumber). */
const vendorInt = z.custom<number | ExactNumber>(
  (v) => (typeof v === 'number' && Number.isInteger(v)) || (v instanceof ExactNumber && v.isInteger),
  { message: 'not an integer' },
);
const vendorNonNegativeInt = z.custom<number | ExactNumber>(
  (v) =>
    (typeof v === 'number' && Number.isInteger(v) && v >= 0) ||
    (v instanceof ExactNumber && v.isInteger && !v.negative),
  { message: 'not a non-negative integer' },
);

export const branchSchema = z
  .object({
    id: vendorId,
    branch_name: z.string().min(1),
    employees: vendorNonNegativeInt,
    location: z.string(),
  })
  .passthrough();

export const employeeSchema = z
  .object({
    id: vendorId,
    occupation: z.string(),
    name: z.string(),
  })
  .passthrough();

export const saleSchema = z
  .object({
    id: vendorId,
    transaction_timestamp: z
      .string()
      .refine(
        (s) => parseVendorTimestamp(s) !== undefined,
        'not a UTC timestamp of the form YYYY-MM-DD HH:MM:SS',
      ),
    amount: z.string().regex(/^-?\d+(\.\d+)?$/, 'not a decimal amount'),
    product: z.string(),
    quantity: vendorInt,
    customer: z.string(),
  })
  .passthrough();

export type BranchRecord = z.infer<typeof branchSchema>;
export type EmployeeRecord = z.infer<typeof employeeSchema>;
export type SaleRecord = z.infer<typeof saleSchema>;

/** The three record kinds the vendor serves, by the name used in keys, summaries and quarantine. */
export const recordSchemas = { branch: branchSchema, employee: employeeSchema, sale: saleSchema } as const;
export type RecordKind = keyof typeof recordSchemas;

/** Envelope of `/branches` (a list in `result`). */
export const branchesEnvelope = z.object({
  result: z.array(z.unknown()),
  next_page_token: z.string().nullable().optional(),
});
/** Envelope of `/employees`. */
export const employeesEnvelope = z.object({
  result: z.object({ branch_id: vendorId, employees: z.array(z.unknown()) }),
  next_page_token: z.string().nullable().optional(),
});
/** Envelope of `/sales`. */
export const salesEnvelope = z.object({
  result: z.object({ employee_id: vendorId, sales: z.array(z.unknown()) }),
  next_page_token: z.string().nullable().optional(),
});
