/**
 * How large one vendor answer may be after decompression (VENDOR_MAX_ANSWER_BYTES): the
 * default and the bounds, read by the configuration and by the vendor client's bounded read.
 */

/**
 * Default VENDOR_MAX_ANSWER_BYTES: 4 MiB, about fifty times a full page of 500 sales. An answer
 * cut at the limit costs a worker about 5 times the limit at its peak (read, landed, set aside;
 * docs/failure-modes.md): at 4 MiB a gzip bomb and a 40 MB page at once add ~45 MB to a normal
 * run's peak; at 8 MiB ~90 MB, at 32 MiB ~210 MB, past a 320 MB-heap worker's limit.
 */
export const DEFAULT_MAX_ANSWER_BYTES = 4 * 1024 * 1024;
/** Smallest VENDOR_MAX_ANSWER_BYTES: below this an ordinary page of 500 records could be cut. */
export const MIN_MAX_ANSWER_BYTES = 1024 * 1024;
/** Largest VENDOR_MAX_ANSWER_BYTES: at about 5 times the limit, one answer then takes half of a 320 MB heap. */
export const MAX_MAX_ANSWER_BYTES = 32 * 1024 * 1024;
