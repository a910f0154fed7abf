/**
 * The position of a file source in one file, as stored in a checkpoint: the byte offset of the next line
 * not yet emitted. Plain data (serialisable as JSON). Version 1; a later layout gets a `version` field.
 */
export interface FileSplit {
  readonly path: string
  readonly offset: number
}

/**
 * Checks a split given back from a checkpoint, so a corrupt snapshot fails naming the split instead of
 * reading from a nonsense position.
 *
 * @example
 * isFileSplit({ path: '/data/a.log', offset: 120 }) // true
 */
export function isFileSplit(value: unknown): value is FileSplit {
  if (value === null || typeof value !== 'object') return false
  const split = value as { path?: unknown; offset?: unknown }
  return (
    typeof split.path === 'string' &&
    typeof split.offset === 'number' &&
    Number.isSafeInteger(split.offset) &&
    split.offset >= 0
  )
}
