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
