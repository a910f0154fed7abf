import { StateError } from '../errors.js'
import type { CheckpointStorage } from './checkpoint-storage.js'
import type { CheckpointMetadata, OperatorSubtaskState, StateHandle } from './checkpoint-types.js'
import { DirectoryStorage } from './directory-storage.js'
import { sha256OffThread } from './sha256-off-thread.js'
import { type EncodedState, decodeStateFile, encodeStateFile } from './state-file.js'

/**
 * Checkpoints held in this process's memory: for tests and for jobs that only need to survive a
 * failure of their own (not of the process). States are stored encoded, as in a state file, so a
 * restore decodes copies of the values, exactly as from disk.
 *
 * @example
 * StreamEnvironment.create({ checkpointing: { intervalMs: 1000, storage: new MemoryStorage() } })
 */
export class MemoryStorage implements CheckpointStorage {
  readonly description = 'memory'
  private readonly states = new Map<string, EncodedState>()
  private readonly completed: CheckpointMetadata[] = []

  constructor(private readonly retain = 3) {}

  async writeState(
    checkpointId: number,
    uid: string,
    subtask: number,
    state: OperatorSubtaskState,
  ): Promise<StateHandle> {
    const encoded = encodeStateFile(state)
    const location = `memory:chk-${checkpointId}/${uid}/${subtask}`
    const checksum = sha256OffThread(encoded.body === undefined ? [encoded.head] : [encoded.head, encoded.body])
    // the subtask reuses the keyed snapshot's buffer for its next snapshot: keep a copy
    this.states.set(location, { ...encoded, body: encoded.body && new Uint8Array(encoded.body) })
    return { location, bytes: encoded.bytes, checksum: await checksum }
  }

  async readState(handle: StateHandle): Promise<OperatorSubtaskState> {
    const encoded = this.states.get(handle.location)
    if (encoded === undefined) throw new StateError('ERR_STATE_MISSING', `no state at ${handle.location}`)
    return decodeStateFile(encoded.head, handle.location, encoded.body)
  }

  async complete(metadata: CheckpointMetadata): Promise<void> {
    this.completed.push(metadata)
  }

  async prune(latestId: number, keep: readonly number[]): Promise<void> {
    const regular = this.completed.filter((m) => !m.savepoint && m.id <= latestId && !keep.includes(m.id))
    for (const old of regular.slice(0, Math.max(0, regular.length - this.retain))) {
      this.completed.splice(this.completed.indexOf(old), 1)
      await this.discard(old.id)
    }
  }

  async discard(checkpointId: number): Promise<void> {
    for (const location of [...this.states.keys()])
      if (location.startsWith(`memory:chk-${checkpointId}/`)) this.states.delete(location)
  }

  async latest(): Promise<CheckpointMetadata | undefined> {
    return this.completed.at(-1)
  }

  async saveSavepoint(metadata: CheckpointMetadata, directory: string): Promise<string> {
    return DirectoryStorage.exportSavepoint(metadata, directory, (handle) => this.readState(handle))
  }
}
