import { StateError } from '../../errors.js'
import { jsonSerializer } from '../../state/serializers/json-serializer.js'

/** An input the operator held when a checkpoint was taken: issued again on restore. */
export interface InFlightInput {
  readonly value: unknown
  readonly timestamp: number | undefined
}

const ID = 'sluice.async-in-flight'
const VERSION = 1

/** One subtask's held inputs in a checkpoint, as stored (one split entry, so its order survives rescaling). */
interface StoredInFlight {
  readonly serializer: typeof ID
  readonly version: number
  /** [value as the json serializer writes it, timestamp or null], in arrival order. */
  readonly inputs: readonly (readonly [unknown, number | null])[]
}

/**
 * The split-state entry for the inputs of the requests an async operator holds at a checkpoint
 * (in flight, queued, or finished but not yet emitted), in arrival order. Values go through the json
 * serializer (Map, Set, bigint, Date survive). Version 1.
 *
 * @example
 * const entry = writeInFlight([{ value: 1, timestamp: 5 }]); readInFlight(entry) // [{ value: 1, timestamp: 5 }]
 */
export function writeInFlight(inputs: Iterable<InFlightInput>): StoredInFlight {
  const stored: [unknown, number | null][] = []
  for (const { value, timestamp } of inputs) stored.push([jsonSerializer.serialize(value), timestamp ?? null])
  return { serializer: ID, version: VERSION, inputs: stored }
}

/**
 * Reads back an entry written by {@link writeInFlight}; a clear StateError for an entry it cannot read.
 *
 * @example
 * for (const { value, timestamp } of readInFlight(entry)) operator.processRecord(value, timestamp)
 */
export function readInFlight(entry: unknown): InFlightInput[] {
  const e = entry as Partial<StoredInFlight> | null
  if (e === null || typeof e !== 'object' || e.serializer !== ID || !Array.isArray(e.inputs)) {
    throw new StateError(
      'ERR_STATE_INCOMPATIBLE',
      `async operator state is not an in-flight request list (${ID}); was the uid given to another operator?`,
    )
  }
  if (e.version !== VERSION)
    throw new StateError(
      'ERR_SERIALIZER_VERSION',
      `async in-flight state written by serializer version ${e.version}; this build reads version ${VERSION}`,
    )
  return e.inputs.map(([value, timestamp]) => ({
    value: jsonSerializer.deserialize(value, 1),
    timestamp: timestamp ?? undefined,
  }))
}
