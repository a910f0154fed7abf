import { StateError } from '../errors.js'
import { BINARY_LAYOUT, align8, isBinaryLayout } from '../state/binary-layout.js'
import type { OperatorSubtaskState } from './checkpoint-types.js'

/** The first bytes of a state file in the binary layout ("SLST"); a layout-1 file is JSON and starts with `{`. */
const MAGIC = 0x54534c53
const OPEN_BRACE = 0x7b

/** A subtask state encoded for storage: `head` then `body` are the file's bytes. */
export interface EncodedState {
  /** Magic, layout version, the JSON of everything but keyed-state data, padding to 8 bytes. */
  readonly head: Buffer
  /** The keyed snapshot's buffer, not copied (a view of a `SharedArrayBuffer` when just written). */
  readonly body: Uint8Array | undefined
  readonly bytes: number
}

/**
 * Encodes a subtask state as a state file: a 16-byte header (magic "SLST", u32 layout version, u32
 * length of the JSON, u32 0), the JSON of the state without keyed-state data, zero padding to a multiple
 * of 8, then the keyed snapshot's buffer as it is. A keyed snapshot in layout 1 (read from an old
 * checkpoint, being exported as a savepoint) stays JSON inside the JSON part.
 *
 * @example
 * const { head, body } = encodeStateFile(state); await file.writev(body ? [head, body] : [head])
 */
export function encodeStateFile(state: OperatorSubtaskState): EncodedState {
  const { keyed, ...rest } = state
  let body: Uint8Array | undefined
  let json: string
  if (keyed !== undefined && keyed.format !== 1) {
    body = keyed.data
    json = JSON.stringify({ ...rest, keyed: { format: keyed.format, states: keyed.states, groups: keyed.groups } })
  } else json = JSON.stringify(state)
  const jsonBytes = Buffer.byteLength(json)
  const head = Buffer.alloc(align8(16 + jsonBytes))
  head.writeUInt32LE(MAGIC, 0)
  head.writeUInt32LE(BINARY_LAYOUT, 4)
  head.writeUInt32LE(jsonBytes, 8)
  head.write(json, 16, jsonBytes)
  return { head, body, bytes: head.length + (body?.byteLength ?? 0) }
}

/**
 * Decodes a state file in either layout: JSON (layout 1, written before the binary layout) or
 * {@link encodeStateFile}'s. Keyed-state data stays a view of `bytes`, or is `body` when the two parts
 * were kept apart (copied only when misaligned).
 * A layout this build does not know fails with ERR_SERIALIZER_VERSION naming the file and version.
 *
 * @example
 * const state = decodeStateFile(await readFile(path), path)
 */
export function decodeStateFile(bytes: Uint8Array, location: string, body?: Uint8Array): OperatorSubtaskState {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buffer[0] === OPEN_BRACE) return JSON.parse(buffer.toString('utf8')) as OperatorSubtaskState
  if (buffer.length < 16 || buffer.readUInt32LE(0) !== MAGIC)
    throw new StateError('ERR_STATE_CORRUPT', `state file ${location} is neither JSON nor a binary state file`)
  const version = buffer.readUInt32LE(4)
  if (!isBinaryLayout(version))
    throw new StateError(
      'ERR_SERIALIZER_VERSION',
      `state file ${location} is in state layout version ${version}; this build reads versions 1 (JSON), 2 and ${BINARY_LAYOUT} (binary)`,
    )
  const jsonBytes = buffer.readUInt32LE(8)
  const state = JSON.parse(buffer.toString('utf8', 16, 16 + jsonBytes)) as OperatorSubtaskState
  if (state.keyed === undefined || state.keyed.format === 1 || !isBinaryLayout(state.keyed.format)) return state
  let data: Uint8Array = body ?? buffer.subarray(align8(16 + jsonBytes))
  if (data.byteOffset % 8 !== 0) data = new Uint8Array(data)
  return { ...state, keyed: { ...state.keyed, data } }
}
