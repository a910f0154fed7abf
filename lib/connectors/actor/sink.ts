import type { DeliveryGuarantee, Sink, SinkWriterContext } from '../../runtime/sink.js'
import type { ThreadBound } from '../../runtime/thread-bound.js'
import { actorSinkSettings, type ActorSinkOptions, type ActorSinkSettings } from './options.js'
import { ActorSinkWriter } from './writer.js'

/**
 * Sends each record to a target actor with backpressure by acknowledgement (Akka Streams'
 * `Sink.actorRefWithBackpressure`; protocol in {@link ActorSinkMessage}): at most `maxUnacknowledged`
 * records per subtask wait for their ack, and a barrier waits for all of them, so the target has every
 * record before the checkpoint: at-least-once (a restore sends the records after the checkpoint
 * again). A target supervised with restart keeps its ref and the sink sees nothing; a target that
 * stops fails the job.
 *
 * @example
 * const collector = system.spawn<ActorSinkMessage<string>>(() => ({
 *   receive: (m) => { if (m.type === 'init' || m.type === 'record') m.replyTo.tell({ type: 'ack' }) },
 * }), { name: 'collector' })
 * stream.sinkTo(actorSink({ target: collector, maxUnacknowledged: 64 }))
 */
export class ActorSink<T> implements Sink<T>, ThreadBound {
  readonly name = 'actor-sink'
  readonly guarantee: DeliveryGuarantee = 'at-least-once'
  /** Refused by the worker-thread executor when the job is built (see {@link ThreadBound}). */
  readonly threadBound =
    'its target is an ActorRef of an ActorSystem on the thread that built the job, which worker threads do not share'
  readonly settings: ActorSinkSettings<T>

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
    return new ActorSinkWriter(this.settings, context)
  }
}
