/**
 * The binary layout of keyed state in a snapshot (layout version 3; version 1 was one JSON text per key
 * group, version 2 is this layout without int32 columns, read as it is). A snapshot's key groups share one buffer; each group's section is a run of blocks, each block
 * a table of `rows` rows and `width` columns, stored column by column:
 *
 * - block header: u8 kind ({@link BlockKind}), u8 width, u16 0, u32 rows, u32 name length, the name
 *   (UTF-8; empty for timers), zero padding to a multiple of 8;
 * - per column: u8 {@link ColumnKind}, 3 zero bytes, u32 heap length (0 for a numbers column), then
 *   - numbers: `rows` float64;
 *   - int32 (every row an integer in int32 range, not −0): `rows` int32, zero padding to a multiple of 8;
 *   - mixed: `rows` tag bytes ({@link Tag}) padded to 8, `rows` float64 (the value of number rows), the
 *     heap: per string or JSON row, in row order, a u32 byte length and its UTF-8, padded to 8.
 *
 * A state block's rows are `[key, value]` (with a TTL `[key, value, touchedAt]`), keys as `encodeKey`
 * and values as the state's serializer wrote them (or the value itself, for JSON-serialized primitives):
 * the same entries as layout 1, so both restore through one path. A timer block's rows are
 * `[timestamp, key]`. Numbers are little-endian, as on every platform Node runs on in practice.
 */
export const BINARY_LAYOUT = 3

/**
 * Whether a keyed snapshot or state file of layout version `format` is in the binary layout this build
 * reads: 3, or 2 (written before int32 columns, which it never holds).
 *
 * @example
 * isBinaryLayout(2) // true
 */
export function isBinaryLayout(format: number | undefined): boolean {
  return format === BINARY_LAYOUT || format === 2
}

/** What a block holds. */
export const BlockKind = { STATE: 0, EVENT_TIMERS: 1, PROCESSING_TIMERS: 2 } as const

/** How a column is stored: every row a number, tagged rows, or every row an int32 (half the bytes). */
export const ColumnKind = { NUMBERS: 0, MIXED: 1, INT32: 2 } as const

/** The type of one row of a mixed column. */
export const Tag = { NUMBER: 0, STRING: 1, TRUE: 2, FALSE: 3, NULL: 4, JSON: 5 } as const

/**
 * `n` rounded up to a multiple of 8, where float64 columns start.
 *
 * @example
 * align8(13) // 16
 */
export function align8(n: number): number {
  return n + ((8 - (n % 8)) % 8)
}
