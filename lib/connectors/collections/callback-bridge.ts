import type { MessagePort } from 'node:worker_threads'
import type { SinkWriter } from '../../runtime/sink.js'
import { recordForCrossing, revivedRecord } from '../../runtime/workers/crossing-errors.js'

/** What a {@link CallbackSink} calls: the record, the sink subtask that wrote it, its timestamp. */
export type RecordCallback<T> = (value: T, subtask: number, timestamp: number | undefined) => void

/** From a worker's callback writer to the coordinating thread. */
type ToCallback<T> =
  /** `errors`: some records hold errors as data, to rebuild (crossing-errors.ts). */
  | { readonly t: 'records'; readonly records: readonly (readonly [T, number | undefined])[]; readonly errors: boolean }
  | { readonly t: 'sync'; readonly id: number }

/** From the coordinating thread back to the writer. */
type FromCallback =
  | { readonly t: 'handled'; readonly count: number }
  | { readonly t: 'synced'; readonly id: number }
  | { readonly t: 'failed'; readonly error: unknown }

/** Records a writer may have posted that the coordinating thread has not yet handed to the callback. */
export const CALLBACK_RECORDS_IN_FLIGHT = 4096

/**
 * On the coordinating thread: calls `onRecord` with each record the callback writer of `subtask`, in a
 * worker, posts through `port`, in order, and answers each sync once every record before it was handed
 * over, and tells the writer how many records it handed over (its credit back). The first error
 * `onRecord` throws goes back to the writer, which fails its subtask with it.
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
      for (const [value, timestamp] of message.records)
        onRecord(message.errors ? (revivedRecord(value) as T) : value, subtask, timestamp)
    } catch (error) {
      failed = true
      port.postMessage({ t: 'failed', error } satisfies FromCallback)
      return
    }
    port.postMessage({ t: 'handled', count: message.records.length } satisfies FromCallback)
  })
  port.unref()
}

/**
 * In a worker: the writer of a {@link CallbackSink} whose callback runs on the coordinating thread
 * ({@link serveCallback}). Records written in one turn of the worker's event loop cross in one message;
 * `flush` (a checkpoint barrier, the end of input) settles once the callback has been called with every
 * record written before it, so a checkpoint or the job's end comes after the callback saw its records.
 * `ready()` holds the subtask while {@link CALLBACK_RECORDS_IN_FLIGHT} records wait for the callback, so
 * a slow callback backpressures the job instead of queueing without bound.
 *
 * @example
 * const writer = new BridgedCallbackWriter<number>(port2)
 */
export class BridgedCallbackWriter<T> implements SinkWriter<T> {
  private buffer: (readonly [T, number | undefined])[] = []
  /** Some record of the buffer holds an error as data. */
  private errors = false
  private readonly syncs = new Map<number, () => void>()
  private nextSync = 0
  private failure: { readonly error: unknown } | undefined
  private inFlight = 0
  private drained: { promise: Promise<void>; resolve: () => void } | undefined

  constructor(private readonly port: MessagePort) {
    port.on('message', (message: FromCallback) => {
      if (message.t === 'handled') {
        this.inFlight -= message.count
        if (this.inFlight < CALLBACK_RECORDS_IN_FLIGHT) this.release()
        return
      }
      if (message.t === 'failed') {
        this.failure ??= { error: message.error }
        for (const settle of this.syncs.values()) settle()
        this.syncs.clear()
        this.release()
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
    if (typeof value === 'object' && value !== null) {
      const crossing = recordForCrossing(value) as T
      if (crossing !== value) this.errors = true
      this.buffer.push([crossing, timestamp])
    } else this.buffer.push([value, timestamp])
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined || this.inFlight + this.buffer.length < CALLBACK_RECORDS_IN_FLIGHT) return undefined
    this.post()
    if (this.drained === undefined) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => (resolve = r))
      this.drained = { promise, resolve }
    }
    return this.drained.promise
  }

  async flush(): Promise<void> {
    this.post()
    if (this.failure === undefined) {
      const id = this.nextSync++
      const synced = new Promise<void>((resolve) => this.syncs.set(id, resolve))
      this.port.postMessage({ t: 'sync', id } satisfies ToCallback<T>)
      // the worker stays alive while it waits for the answer (the port alone does not keep it)
      this.port.ref()
      await synced
      if (this.syncs.size === 0) this.port.unref()
    }
    if (this.failure !== undefined) throw this.failure.error
  }

  close(): void {
    this.post()
  }

  private post(): void {
    if (this.buffer.length === 0) return
    const records = this.buffer
    const errors = this.errors
    this.buffer = []
    this.errors = false
    this.inFlight += records.length
    this.port.postMessage({ t: 'records', records, errors } satisfies ToCallback<T>)
  }

  private release(): void {
    this.drained?.resolve()
    this.drained = undefined
  }
}
