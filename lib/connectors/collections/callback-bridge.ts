import type { MessagePort } from 'node:worker_threads'
import type { SinkWriter } from '../../runtime/sink.js'

/** What a {@link CallbackSink} calls: the record, the sink subtask that wrote it, its timestamp. */
export type RecordCallback<T> = (value: T, subtask: number, timestamp: number | undefined) => void

/** From a worker's callback writer to the coordinating thread. */
type ToCallback<T> =
  | { readonly t: 'records'; readonly records: readonly (readonly [T, number | undefined])[] }
  | { readonly t: 'sync'; readonly id: number }

/** From the coordinating thread back to the writer. */
type FromCallback = { readonly t: 'synced'; readonly id: number } | { readonly t: 'failed'; readonly error: unknown }

/**
 * On the coordinating thread: calls `onRecord` with each record the callback writer of `subtask`, in a
 * worker, posts through `port`, in order, and answers each sync once every record before it was handed
 * over. The first error `onRecord` throws goes back to the writer, which fails its subtask with it.
 *
 * @example
 * serveCallback((v) => seen.push(v), 0, port1)
 */
export function serveCallback<T>(onRecord: RecordCallback<T>, subtask: number, port: MessagePort): void {
  let failed = false
  port.on('message', (message: ToCallback<T>) => {
    if (message.t === 'sync') return port.postMessage({ t: 'synced', id: message.id } satisfies FromCallback)
    if (failed) return
    try {
      for (const [value, timestamp] of message.records) onRecord(value, subtask, timestamp)
    } catch (error) {
      failed = true
      port.postMessage({ t: 'failed', error } satisfies FromCallback)
    }
  })
  port.unref()
}

/**
 * In a worker: the writer of a {@link CallbackSink} whose callback runs on the coordinating thread
 * ({@link serveCallback}). Records written in one turn of the worker's event loop cross in one message;
 * `flush` (a checkpoint barrier, the end of input) settles once the callback has been called with every
 * record written before it, so a checkpoint or the job's end comes after the callback saw its records.
 *
 * @example
 * const writer = new BridgedCallbackWriter<number>(port2)
 */
export class BridgedCallbackWriter<T> implements SinkWriter<T> {
  private buffer: (readonly [T, number | undefined])[] = []
  private readonly syncs = new Map<number, () => void>()
  private nextSync = 0
  private failure: { readonly error: unknown } | undefined

  constructor(private readonly port: MessagePort) {
    port.on('message', (message: FromCallback) => {
      if (message.t === 'failed') {
        this.failure ??= { error: message.error }
        for (const settle of this.syncs.values()) settle()
        this.syncs.clear()
        return
      }
      this.syncs.get(message.id)?.()
      this.syncs.delete(message.id)
    })
    port.unref()
  }

  write(value: T, timestamp: number | undefined): void {
    if (this.failure !== undefined) throw this.failure.error
    if (this.buffer.length === 0) queueMicrotask(() => this.post())
    this.buffer.push([value, timestamp])
  }

  async flush(): Promise<void> {
    this.post()
    if (this.failure === undefined) {
      const id = this.nextSync++
      const synced = new Promise<void>((resolve) => this.syncs.set(id, resolve))
      this.port.postMessage({ t: 'sync', id } satisfies ToCallback<T>)
      await synced
    }
    if (this.failure !== undefined) throw this.failure.error
  }

  close(): void {
    this.post()
  }

  private post(): void {
    if (this.buffer.length === 0) return
    const records = this.buffer
    this.buffer = []
    this.port.postMessage({ t: 'records', records } satisfies ToCallback<T>)
  }
}
