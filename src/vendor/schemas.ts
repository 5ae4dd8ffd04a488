/**
 * One schema per vendor record kind, written once: the activities validate every
 * record against these before it may be stored, and the simulator's tests check that
 * what the simulator serves conforms. Unknown fields are kept (`passthrough`): the
 * contract says every API field is stored.
 */
import { z } from 'zod';

/** `YYYY-MM-DD HH:MM:SS`, UTC, and a real calendar instant. */
export const VENDOR_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

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

const vendorId = z.number().int().nonnegative();

export const branchSchema = z
  .object({
    id: vendorId,
    branch_name: z.string().min(1),
    employees: z.number().int().nonnegative(),
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
    quantity: z.number().int(),
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
  result: z.object({ branch_id: z.number(), employees: z.array(z.unknown()) }),
  next_page_token: z.string().nullable().optional(),
});
/** Envelope of `/sales`. */
export const salesEnvelope = z.object({
  result: z.object({ employee_id: z.number(), sales: z.array(z.unknown()) }),
  next_page_token: z.string().nullable().optional(),
});
