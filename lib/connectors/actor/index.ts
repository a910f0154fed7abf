import type { ActorSinkOptions, ActorSourceOptions } from './options.js'
import { ActorSink } from './sink.js'
import { ActorSource } from './source.js'

export {
  actorSinkSettings,
  actorSourceSettings,
  type ActorAckMode,
  type ActorOverflow,
  type ActorSinkAck,
  type ActorSinkMessage,
  type ActorSinkOptions,
  type ActorSinkSettings,
  type ActorSourceMessage,
  type ActorSourceOptions,
  type ActorSourceReply,
  type ActorSourceSettings,
  type ActorSourceStateV1,
} from './options.js'
export { ActorSourceReader } from './reader.js'
export { ActorSinkWriter } from './writer.js'
export { ActorSink } from './sink.js'
export { ActorSource } from './source.js'

/**
 * A source taking records told to an actor; see {@link ActorSource}.
 *
 * @example
 * const source = actorSource<Order>({ system, actorName: 'orders', ackMode: 'checkpointed' })
 * env.fromSource(source, { uid: 'orders' })
 * source.ref.tell({ type: 'record', value: order, id: order.id })
 */
export function actorSource<T>(options?: ActorSourceOptions): ActorSource<T> {
  return new ActorSource(options)
}

/**
 * A sink telling each record to an actor that acknowledges it; see {@link ActorSink}.
 *
 * @example
 * stream.sinkTo(actorSink({ target: collectorRef }))
 */
export function actorSink<T>(options: ActorSinkOptions<T>): ActorSink<T> {
  return new ActorSink(options)
}
