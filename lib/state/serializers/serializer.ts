/**
 * Turns persisted state into text and back. Every serializer names itself and its version, which are
 * written into each snapshot, so a checkpoint written today restores after the code changes (a newer
 * serializer reads the versions it knows and says clearly which it does not).
 */
export interface StateSerializer<T> {
  readonly id: string
  readonly version: number
  serialize(value: T): unknown
  /** Reads a value written by `version` of this serializer. */
  deserialize(data: unknown, version: number): T
}

/**
 * A copy of a value as `serializer` writes and reads it: what a restore of that value would give.
 *
 * @example
 * const copy = copyOf(windowStateSerializer); copy(new TimeWindow(0, 10)) instanceof TimeWindow // true
 */
export function copyOf<T>(serializer: StateSerializer<T>): (value: T) => T {
  return (value) => serializer.deserialize(serializer.serialize(value), serializer.version)
}
