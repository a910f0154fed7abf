import type { DeliveryGuarantee, Sink, SinkWriterContext } from '../../runtime/sink.js'
import type { MessagePort } from 'node:worker_threads'
import type { ThreadBridged } from '../../runtime/thread-bridged.js'
import { actorSinkSettings, type ActorSinkOptions, type ActorSinkSettings } from './options.js'
import { BridgedTarget, serveTarget } from './sink-bridge.js'
import { ActorSinkWriter } from './writer.js'

/**
 * Sends each record to a target actor with backpressure by acknowledgement (Akka Streams'
 * `Sink.actorRefWithBackpressure`; protocol in {@link ActorSinkMessage}): at most `maxUnacknowledged`
 * records per subtask wait for their ack, and a barrier waits for all of them, so the target has every
 * record before the checkpoint: at-least-once (a restore sends the records after the checkpoint
 * again). A target supervised with restart keeps its ref and the sink sees nothing; a target that
 * stops fails the job. On the worker executor the target stays on the coordinating thread and each
 * writer reaches it through a MessagePort (records are structured-cloned); see {@link ThreadBridged}.
 *
 * @example
 * const collector = system.spawn<ActorSinkMessage<string>>(() => ({
 *   receive: (m) => { if (m.type === 'init' || m.type === 'record') m.replyTo.tell({ type: 'ack' }) },
 * }), { name: 'collector' })
 * stream.sinkTo(actorSink({ target: collector, maxUnacknowledged: 64 }))
 */
export class ActorSink<T> implements Sink<T>, ThreadBridged {
  readonly name = 'actor-sink'
  readonly guarantee: DeliveryGuarantee = 'at-least-once'
  readonly settings: ActorSinkSettings<T>
  /** In a worker: the ports to the coordinating thread, by subtask. */
  private readonly bridges: MessagePort[] = []

  constructor(options: ActorSinkOptions<T>) {
    this.settings = actorSinkSettings(options)
  }

  /**
   * The writer of one subtask.
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createWriter(context: SinkWriterContext): ActorSinkWriter<T> {
    const port = this.bridges[context.subtask]
    if (port === undefined) return new ActorSinkWriter(this.settings, context)
    let writer: ActorSinkWriter<T> | undefined
    const target = new BridgedTarget<T>(this.settings.target.path, port, (why) => writer?.undelivered(why))
    writer = new ActorSinkWriter(this.settings, context, target)
    return writer
  }

  /**
   * On the coordinating thread (worker executor): tells the target what the writer of `subtask` sends.
   *
   * @example
   * sink.serveBridge(0, 2, port1)
   */
  serveBridge(subtask: number, _parallelism: number, port: MessagePort): void {
    serveTarget(this.settings.target, subtask, port)
  }

  /**
   * In a worker: the writer of `subtask` sends to the target through `port`.
   *
   * @example
   * sink.useBridge(0, port2)
   */
  useBridge(subtask: number, port: MessagePort): void {
    this.bridges[subtask] = port
  }
}
