import type { CheckpointStorage } from '../../checkpoint/checkpoint-storage.js'
import type { OperatorSubtaskState, StateHandle } from '../../checkpoint/checkpoint-types.js'
import { Deferred } from '../../util/deferred.js'
import { revivedError } from './transferred-error.js'
import type { FromWorker, StateReply } from './worker-protocol.js'

/**
 * A worker thread's view of a checkpoint storage that lives on the coordinator (a `MemoryStorage`, or
 * any storage that is no `DirectoryStorage`): its subtasks' state is posted to the coordinator, which
 * writes it to the job's storage and answers with the handle; a restore asks the coordinator for the
 * state of a handle. State crosses by structured clone, as records do. Only the two verbs a subtask
 * uses: the coordinator completes, prunes and lists checkpoints itself.
 *
 * @example
 * const storage = new CoordinatorStorage((m) => port.postMessage(m)); port.on('message', (m) => storage.answer(m))
 */
export class CoordinatorStorage implements Pick<CheckpointStorage, 'writeState' | 'readState'> {
  private readonly pending = new Map<number, Deferred<StateHandle | OperatorSubtaskState>>()
  private requests = 0

  constructor(private readonly post: (message: FromWorker) => void) {}

  writeState(checkpointId: number, uid: string, subtask: number, state: OperatorSubtaskState): Promise<StateHandle> {
    return this.ask({
      t: 'write-state',
      request: this.requests++,
      checkpointId,
      uid,
      subtask,
      state,
    }) as Promise<StateHandle>
  }

  readState(handle: StateHandle): Promise<OperatorSubtaskState> {
    return this.ask({ t: 'read-state', request: this.requests++, handle }) as Promise<OperatorSubtaskState>
  }

  /** Settles the request the coordinator answered. */
  answer(reply: StateReply): void {
    const waiting = this.pending.get(reply.request)
    this.pending.delete(reply.request)
    if ('error' in reply) waiting?.reject(revivedError(reply.error))
    else waiting?.resolve('handle' in reply ? reply.handle : reply.state)
  }

  private ask(message: Extract<FromWorker, { t: 'write-state' | 'read-state' }>): Promise<unknown> {
    const answer = new Deferred<StateHandle | OperatorSubtaskState>()
    this.pending.set(message.request, answer)
    this.post(message)
    return answer.promise
  }
}
