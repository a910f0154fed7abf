import type { MessagePort } from 'node:worker_threads'
import { FinishedShards, type ShardFinishRegistry } from './finished-shards.js'

type ToCoordinator = { readonly t: 'mark' | 'unmark'; readonly shardId: string }
type FromCoordinator = { readonly t: 'finished' | 'unfinished'; readonly shardId: string }

/** A subtask's port on the coordinator, with the marks its reader made through it. */
interface ServedSubtask {
  readonly port: MessagePort
  readonly marks: Map<string, number>
}

/**
 * On the coordinating thread of the worker executor: the job-wide set of finished shards of one Kinesis
 * source (Flink's split enumerator keeps it so, in `KinesisStreamsSource`). Each reader, in a worker,
 * reports the shards it finished through its subtask's port; every change of the set goes to every
 * subtask's port, so a child whose parents another thread read learns that they are finished.
 *
 * A subtask's marks count until its reader takes them back (it closes), its port closes (the worker
 * exited or was terminated) or the next deployment serves the same subtask: so after a failure, as on
 * one thread, only what the restored checkpoints say counts (every reader marks the finished shards of
 * the checkpoint it restores).
 *
 * Threading: the coordinator's event loop only; ports are unref'd, so they keep no process alive.
 *
 * @example
 * const coordinator = new FinishedShardsCoordinator(new FinishedShards())
 * coordinator.serve(0, port1) // the other end goes to the worker hosting subtask 0
 */
export class FinishedShardsCoordinator {
  private readonly served = new Map<number, ServedSubtask>()

  constructor(private readonly registry: FinishedShards) {}

  /** Serves the reader of `subtask` through `port`, dropping the marks of the port served for it before. */
  serve(subtask: number, port: MessagePort): void {
    const before = this.served.get(subtask)
    if (before !== undefined) this.drop(subtask, before)
    const served: ServedSubtask = { port, marks: new Map() }
    this.served.set(subtask, served)
    port.on('message', (message: ToCoordinator) => {
      if (this.served.get(subtask) !== served) return
      if (message.t === 'mark') this.mark(served, message.shardId)
      else this.unmark(served, message.shardId)
    })
    port.on('close', () => {
      if (this.served.get(subtask) === served) this.drop(subtask, served)
    })
    port.unref()
  }

  private mark(served: ServedSubtask, shardId: string): void {
    served.marks.set(shardId, (served.marks.get(shardId) ?? 0) + 1)
    const was = this.registry.isFinished(shardId)
    this.registry.mark(shardId)
    if (!was) this.broadcast({ t: 'finished', shardId })
  }

  private unmark(served: ServedSubtask, shardId: string): void {
    const n = served.marks.get(shardId) ?? 0
    if (n === 0) return
    if (n > 1) served.marks.set(shardId, n - 1)
    else served.marks.delete(shardId)
    this.registry.unmark(shardId)
    if (!this.registry.isFinished(shardId)) this.broadcast({ t: 'unfinished', shardId })
  }

  private drop(subtask: number, served: ServedSubtask): void {
    this.served.delete(subtask)
    for (const [shardId, n] of [...served.marks]) for (let i = 0; i < n; i++) this.unmark(served, shardId)
    served.port.close()
  }

  private broadcast(message: FromCoordinator): void {
    for (const { port } of this.served.values()) port.postMessage(message)
  }
}

/**
 * In a worker: a Kinesis reader's {@link ShardFinishRegistry}, the coordinator's set reached through its
 * subtask's port. Its own marks count at once (so its own children need not wait for the round trip)
 * and go to the coordinator; what the coordinator announces (any reader's marks) counts when it
 * arrives.
 *
 * @example
 * const registry = new RemoteFinishedShards(port2); registry.mark('shardId-000000000001')
 */
export class RemoteFinishedShards implements ShardFinishRegistry {
  private readonly own = new FinishedShards()
  private readonly announced = new Set<string>()
  private readonly listeners = new Set<() => void>()

  constructor(private readonly port: MessagePort) {
    port.on('message', (message: FromCoordinator) => {
      if (message.t === 'unfinished') {
        this.announced.delete(message.shardId)
        return
      }
      this.announced.add(message.shardId)
      for (const listener of this.listeners) listener()
    })
    port.unref()
  }

  mark(shardId: string): void {
    this.own.mark(shardId)
    this.port.postMessage({ t: 'mark', shardId } satisfies ToCoordinator)
    for (const listener of this.listeners) listener()
  }

  unmark(shardId: string): void {
    this.own.unmark(shardId)
    this.port.postMessage({ t: 'unmark', shardId } satisfies ToCoordinator)
  }

  isFinished(shardId: string): boolean {
    return this.own.isFinished(shardId) || this.announced.has(shardId)
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
