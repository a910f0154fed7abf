import type { MessagePort } from 'node:worker_threads'
import type { PartFileRef } from './transaction-state.js'

/**
 * What a sink subtask's writer hands to the writer of the same subtask in the job's next attempt: the
 * part files it leaves uncommitted. On a fresh restart (no checkpoint to restore) the successor deletes
 * them, as the sources replay everything; with a restore the checkpoint decides. In one thread the
 * successor fences its predecessor itself; on the worker executor each attempt runs on fresh worker
 * threads, so the predecessor posts its leftovers, when it closes, to the coordinator's copy of the
 * sink ({@link HandoverStore}), which outlives the attempts, and the successor takes them from there.
 *
 * @example
 * const leftovers = await predecessor.fence()
 */
export interface Predecessor {
  /** Stops the predecessor making files and returns, once its I/O settled, the parts it left uncommitted. */
  fence(): Promise<readonly PartFileRef[]>
}

type ToCoordinator =
  | { readonly t: 'left'; readonly id: number; readonly refs: readonly PartFileRef[] }
  | { readonly t: 'take'; readonly id: number }
interface FromCoordinator {
  readonly id: number
  readonly refs: readonly PartFileRef[]
}

/**
 * On the coordinating thread: the uncommitted parts the last writer of each subtask left, which the
 * writer of the next attempt takes (served to each subtask's writer in a worker through its port).
 *
 * @example
 * store.serve(subtask, port1)
 */
export class HandoverStore {
  private readonly left = new Map<number, PartFileRef[]>()

  serve(subtask: number, port: MessagePort): void {
    port.on('message', (message: ToCoordinator) => {
      let refs: readonly PartFileRef[] = []
      if (message.t === 'left') this.left.set(subtask, [...(this.left.get(subtask) ?? []), ...message.refs])
      else {
        refs = this.left.get(subtask) ?? []
        this.left.delete(subtask)
      }
      port.postMessage({ id: message.id, refs } satisfies FromCoordinator)
    })
    port.unref()
  }
}

/**
 * In a worker: a writer's end of the {@link HandoverStore}. `take` is the writer's {@link Predecessor}
 * (what the previous attempt's writer left); `leave` posts what this writer leaves, answered once the
 * coordinator has it, so that a writer's close ends only after its leftovers are safe.
 *
 * @example
 * const handover = new Handover(port2); const leftovers = await handover.take()
 */
export class Handover implements Predecessor {
  private next = 0
  private readonly waiting = new Map<number, (refs: readonly PartFileRef[]) => void>()

  constructor(private readonly port: MessagePort) {
    port.on('message', ({ id, refs }: FromCoordinator) => {
      this.waiting.get(id)?.(refs)
      this.waiting.delete(id)
    })
    port.unref()
  }

  /** The parts the previous attempt's writer of this subtask left uncommitted (then forgotten there). */
  fence(): Promise<readonly PartFileRef[]> {
    return this.ask({ t: 'take', id: this.next++ })
  }

  /** Hands this writer's uncommitted parts to the next attempt. */
  async leave(refs: readonly PartFileRef[]): Promise<void> {
    await this.ask({ t: 'left', id: this.next++, refs })
  }

  private ask(message: ToCoordinator): Promise<readonly PartFileRef[]> {
    return new Promise<readonly PartFileRef[]>((resolve) => {
      this.waiting.set(message.id, resolve)
      // the answer must keep the thread alive while awaited: the port is unref'd otherwise
      this.port.ref()
      this.port.postMessage(message)
    }).finally(() => {
      if (this.waiting.size === 0) this.port.unref()
    })
  }
}
