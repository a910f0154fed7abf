import type { MessagePort } from 'node:worker_threads'
import type { Sink, SinkWriter } from '../../runtime/sink.js'
import type { ThreadBridged } from '../../runtime/thread-bridged.js'
import { BridgedCallbackWriter, type RecordCallback, serveCallback } from './callback-bridge.js'
import { CallbackWriter } from './callback-writer.js'

/**
 * Hands every record to a function in this process: what `toObservable()` and `executeAndCollect()`
 * are built on, and handy in tests. On the worker executor the function runs on the coordinating
 * thread (the one that called `execute()`), as on one thread: each sink subtask in a worker posts its
 * records there ({@link ThreadBridged}), and a checkpoint or the job's end waits until the function
 * was called with every record before it.
 *
 * @example
 * const seen: number[] = []
 * stream.sinkTo(new CallbackSink((v: number) => seen.push(v)))
 */
export class CallbackSink<T> implements Sink<T>, ThreadBridged {
  readonly name = 'callback'
  readonly guarantee = 'at-least-once'
  private readonly bridges = new Map<number, MessagePort>()

  constructor(private readonly onRecord: RecordCallback<T>) {}

  createWriter(context: { subtask: number }): SinkWriter<T> {
    const subtask = context.subtask
    const port = this.bridges.get(subtask)
    if (port !== undefined) return new BridgedCallbackWriter<T>(port)
    return new CallbackWriter(this.onRecord, subtask)
  }

  /** On the coordinating thread: calls the function with what the writer of `subtask`, in a worker, posts. */
  serveBridge(subtask: number, _parallelism: number, port: MessagePort): void {
    serveCallback(this.onRecord, subtask, port)
  }

  /** In a worker: the writer of `subtask` posts its records to the coordinating thread through `port`. */
  useBridge(subtask: number, port: MessagePort): void {
    this.bridges.set(subtask, port)
  }
}
