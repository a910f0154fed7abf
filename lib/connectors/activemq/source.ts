import { stompPackages } from './connection.js'
import { ActiveMQReader } from './reader.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import type { AckStateV1 } from '../base/checkpoint-acks.js'
import {
  type ActiveMQMessage,
  type ActiveMQSourceOptions,
  type ActiveMQSourceSettings,
  activemqSourceSettings,
} from './options.js'

/**
 * Reads an ActiveMQ queue, or a topic through a durable subscription, over STOMP (Bahir's AMQSource),
 * with cumulative (`ack: client`) acknowledgement. Emits {@link ActiveMQMessage}s: decode them downstream with
 * `decode(...)`, whose dead-letter output takes payloads that do not decode.
 *
 * Flow control: the broker dispatches at most `prefetch` unacknowledged messages to a subtask
 * (`activemq.prefetchSize`), so the reader's buffer never holds more. ActiveMQ also pages messages in
 * for dispatch `maxPageSize` at a time (200 unless its destination policy says otherwise) and pages
 * more only as acknowledgements come: before its first acknowledgement a reader gets at most 200.
 *
 * Guarantees (option `guarantee`):
 * - **at-least-once** (default): each message is acknowledged (ACK) only when the checkpoint whose
 *   barrier followed it completes; whatever is unacknowledged when a connection or the job fails is
 *   redelivered. Needs checkpointing: without it, reading stops after `prefetch` messages.
 * - **exactly-once**: the same, and every `message-id` is remembered until the broker's RECEIPT for the
 *   last ACK shows the acknowledgements were processed; the ids go into every checkpoint, and a
 *   redelivery whose id is remembered is acknowledged without being emitted. One subtask only.
 * - **at-most-once**: acknowledged when emitted, for jobs without checkpoints.
 *
 * A durable topic subscription (`subscriptionName` + `clientId`) is read by one subtask. Lost
 * connections are reopened with a doubling delay; after `retry.maxRetries` failed attempts `pollNext`
 * throws ConnectorError 'ERR_CONNECT'.
 *
 * @example
 * env.fromSource(new ActiveMQSource({ destination: '/queue/orders', guarantee: 'exactly-once' }), { uid: 'orders' })
 *   .pipe(decode((m: ActiveMQMessage) => JSON.parse(m.body.toString()) as Order))
 */
export class ActiveMQSource implements Source<ActiveMQMessage, AckStateV1> {
  readonly name = 'activemq'
  readonly bounded = false
  readonly maxParallelism: number | undefined
  readonly commitsOnCheckpoint: boolean
  readonly acknowledgesOnCheckpoint: boolean
  readonly settings: ActiveMQSourceSettings

  constructor(options: ActiveMQSourceOptions) {
    for (const p of stompPackages) p.check('activemqSource')
    this.settings = activemqSourceSettings(options)
    const single = this.settings.guarantee === 'exactly-once' || this.settings.subscriptionName !== undefined
    this.maxParallelism = single ? 1 : undefined
    this.commitsOnCheckpoint = this.settings.guarantee !== 'at-most-once'
    this.acknowledgesOnCheckpoint = this.commitsOnCheckpoint
  }

  /**
   * The reader of one subtask; it connects in `start()`. `restored` holds the remembered ids (exactly-once).
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored?: AckStateV1[]): ActiveMQReader {
    return new ActiveMQReader(this.settings, context, restored ?? [])
  }
}
