import type { OperatorSubtaskState } from './checkpoint-types.js'

/**
 * The JSON text of a subtask state as a list of chunks: keyed-state groups were serialized one by one
 * while the snapshot ran, so storing them is only writing the chunks (no large synchronous
 * `JSON.stringify` that would stall the subtask). Joined, the chunks are the state's JSON.
 *
 * @example
 * for (const chunk of stateChunks(state)) await file.write(chunk)
 */
export function stateChunks(state: OperatorSubtaskState): string[] {
  const { keyed, ...rest } = state
  const restJson = JSON.stringify(rest)
  if (keyed === undefined) return [restJson]
  const chunks = [`{"keyed":{"format":${keyed.format},"states":${JSON.stringify(keyed.states)},"groups":{`]
  let first = true
  for (const [group, section] of Object.entries(keyed.groups)) {
    chunks.push(`${first ? '' : ','}"${group}":`, typeof section === 'string' ? section : JSON.stringify(section))
    first = false
  }
  chunks.push(restJson === '{}' ? '}}}' : `}},${restJson.slice(1)}`)
  return chunks
}
