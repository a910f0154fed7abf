import type { Kafka, Message, Producer } from 'kafkajs'
import { ConnectorError, messageOf } from '../../errors.js'
import type { SinkWriterContext } from '../../runtime/sink.js'
import { BatchingWriter } from '../base/batching-writer.js'
import type { ProducerSettings } from './options.js'
import { type RecordSerializer, TopicMessages } from './producer-records.js'

/**
 * The writer of a Kafka sink (at-least-once or none): batches of kafkajs `sendBatch` requests, one at
 * a time, on {@link BatchingWriter}.
 *
 * @example
 * const writer = new KafkaSink({ brokers, topic: 'out' }).createWriter(context)
 */
export class KafkaSinkWriter<T> extends BatchingWriter<T, Array<{ topic: string; messages: Message[] }>> {
  private readonly producer: Producer
  private readonly buffer = new TopicMessages()

  constructor(
    private readonly records: RecordSerializer<T>,
    private readonly settings: ProducerSettings,
    guarantee: 'at-least-once' | 'at-most-once',
    kafka: Kafka,
    context: SinkWriterContext,
  ) {
    super(context, {
      connector: 'kafka-sink',
      maxBatchRecords: settings.batchSize,
      lingerMs: settings.lingerMs,
      maxInFlightRecords: settings.maxInFlightRecords,
      flushOnBarrier: guarantee === 'at-least-once',
    })
    this.producer = kafka.producer({ createPartitioner: records.createPartitioner, allowAutoTopicCreation: false })
    this.openWith(this.producer.connect())
  }

  override async close(): Promise<void> {
    await super.close()
    await this.producer.disconnect().catch(() => undefined)
  }

  protected addToBatch(value: T, timestamp: number | undefined): void {
    this.records.add(this.buffer, value, timestamp)
  }

  protected takeBatch(): Array<{ topic: string; messages: Message[] }> {
    return this.buffer.drain()
  }

  protected async sendBatch(topicMessages: Array<{ topic: string; messages: Message[] }>): Promise<void> {
    this.requests.inc()
    await this.producer.sendBatch({ topicMessages, acks: this.settings.acks })
  }

  protected toFailure(error: unknown): Error {
    return new ConnectorError(
      'ERR_SEND',
      `kafka sink (subtask ${this.context.subtask}): sending failed: ${messageOf(error)}`,
      { cause: error, retriable: true },
    )
  }
}
