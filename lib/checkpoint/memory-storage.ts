import { createHash } from 'node:crypto'
import { StateError } from '../errors.js'
import type { CheckpointStorage } from './checkpoint-storage.js'
import type { CheckpointMetadata, OperatorSubtaskState, StateHandle } from './checkpoint-types.js'
import { DirectoryStorage } from './directory-storage.js'
import { stateChunks } from './state-text.js'

/**
 * Checkpoints held in this process's memory: for tests and for jobs that only need to survive a
 * failure of their own (not of the process). States are stored as JSON text, so a restore gets
 * copies, exactly as from disk.
 *
 * @example
 * StreamEnvironment.create({ checkpointing: { intervalMs: 1000, storage: new MemoryStorage() } })
 */
export class MemoryStorage implements CheckpointStorage {
  readonly description = 'memory'
  private readonly states = new Map<string, string>()
  private readonly completed: CheckpointMetadata[] = []

  constructor(private readonly retain = 3) {}

  async writeState(
    checkpointId: number,
    uid: string,
    subtask: number,
    state: OperatorSubtaskState,
  ): Promise<StateHandle> {
    const text = stateChunks(state).join('')
    const location = `memory:chk-${checkpointId}/${uid}/${subtask}`
    this.states.set(location, text)
    return { location, bytes: Buffer.byteLength(text), checksum: createHash('sha256').update(text).digest('hex') }
  }

  async readState(handle: StateHandle): Promise<OperatorSubtaskState> {
    const text = this.states.get(handle.location)
    if (text === undefined) throw new StateError('ERR_STATE_MISSING', `no state at ${handle.location}`)
    return JSON.parse(text) as OperatorSubtaskState
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
