import { amqplib } from './connection.js'
import { RabbitMQReader } from './reader.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import type { AckStateV1 } from '../base/checkpoint-acks.js'
import { type RabbitMQMessage, type RabbitMQSourceOptions, type SourceSettings, sourceSettings } from './options.js'

/**
 * Consumes a RabbitMQ queue (Flink's RMQSource), emitting amqplib's messages as they are: decode them
 * downstream with `decode(...)`, whose dead-letter output takes payloads that do not decode.
 *
 * Flow control: the broker hands each subtask at most `prefetch` unacknowledged messages (basic.qos),
 * and the reader keeps what it was handed until the runtime polls, so its buffer never holds more.
 *
 * Guarantees (option `guarantee`):
 * - **at-least-once** (default): a message is acknowledged — one basic.ack with `multiple` up to the
 *   last delivery tag — only when the checkpoint whose barrier followed it completes. After a failure,
 *   everything unacknowledged is redelivered. Needs checkpointing: without it reading stops after
 *   `prefetch` messages, and `prefetch` per checkpoint interval bounds the throughput.
 * - **exactly-once**: the same, and each message's `correlationId` (or `messageId`) is remembered until
 *   the broker has processed its acknowledgement (a queue.declare round trip after the basic.ack); the
 *   remembered ids go into every checkpoint, and a redelivered message whose id is remembered is
 *   acknowledged without being emitted. One subtask only (as Flink's RMQSource). Combine with an
 *   exactly-once sink. Ids deduplicate redeliveries, not a producer that reuses ids later.
 * - **at-most-once**: acknowledged when emitted, for jobs without checkpoints.
 *
 * Connections: a lost connection or channel (a broker restart, a closed connection) is reopened with a
 * doubling delay; messages delivered on it and not yet acknowledged come again. After `maxRetries`
 * failed attempts `pollNext` throws ConnectorError 'ERR_CONNECT'. A missing queue is 'ERR_NO_QUEUE' at
 * once; a consumer the broker cancelled (queue deleted) is 'ERR_CONSUMER_CANCELLED'.
 *
 * @example
 * const env = StreamEnvironment.create({ checkpointing: { intervalMs: 1000 } })
 * env.fromSource(new RabbitMQSource({ queue: 'orders', guarantee: 'exactly-once' }), { uid: 'orders' })
 *   .pipe(decode((m: RabbitMQMessage) => JSON.parse(m.content.toString()) as Order))
 */
export class RabbitMQSource implements Source<RabbitMQMessage, AckStateV1> {
  readonly name = 'rabbitmq'
  readonly bounded = false
  readonly maxParallelism: number | undefined
  readonly commitsOnCheckpoint: boolean
  readonly acknowledgesOnCheckpoint: boolean
  readonly settings: SourceSettings

  constructor(options: RabbitMQSourceOptions) {
    amqplib.check('rabbitmqSource')
    this.settings = sourceSettings(options)
    this.maxParallelism = this.settings.guarantee === 'exactly-once' ? 1 : undefined
    this.commitsOnCheckpoint = this.settings.guarantee !== 'at-most-once'
    this.acknowledgesOnCheckpoint = this.commitsOnCheckpoint
  }

  /**
   * The reader of one subtask; it connects in `start()`. `restored` holds the remembered ids (exactly-once).
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored?: AckStateV1[]): RabbitMQReader {
    return new RabbitMQReader(this.settings, context, restored ?? [])
  }
}
