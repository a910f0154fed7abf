import type { Kafka, Producer } from 'kafkajs'
import { ConnectorError, messageOf } from '../../errors.js'
import type { Sink, SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import { kafkaClient, type KafkaSinkOptions, oneOf, optionsObject, wholeNumber } from './options.js'
import { RecordSerializer, TopicMessages } from './producer-records.js'

/** Sending settings shared by the sinks, after validation. */
export interface ProducerSettings {
  readonly batchSize: number
  readonly lingerMs: number
  readonly maxInFlightRecords: number
  readonly acks: -1 | 1
}

/**
 * Validates the sending options of a Kafka sink.
 *
 * @example
 * producerSettings('kafkaSink', { topic: 'out', batchSize: 1000 })
 */
export function producerSettings<T>(owner: string, options: KafkaSinkOptions<T>): ProducerSettings {
  return {
    batchSize: wholeNumber(`${owner}.batchSize`, options.batchSize ?? 500, 1),
    lingerMs: wholeNumber(`${owner}.lingerMs`, options.lingerMs ?? 5, 0),
    maxInFlightRecords: wholeNumber(`${owner}.maxInFlightRecords`, options.maxInFlightRecords ?? 10_000, 1),
    acks: oneOf(`${owner}.acks`, options.acks ?? -1, [-1, 1]),
  }
}

/**
 * Writes records to Kafka with kafkajs's producer (Flink's KafkaSink with DeliveryGuarantee
 * AT_LEAST_ONCE or NONE). Records are batched (`batchSize`, `lingerMs`) and sent one request at a
 * time, in order; while `maxInFlightRecords` records wait for acknowledgement the writer takes no more.
 *
 * Guarantee: with 'at-least-once' (default), every checkpoint barrier flushes and waits until the
 * broker acknowledged every record written before it, so a restored job loses nothing (records after
 * the checkpoint may be written twice). With 'none', barriers do not wait. A failed send fails the job.
 * For exactly-once use `kafkaSink({ guarantee: 'exactly-once', transactionalIdPrefix })`.
 *
 * @example
 * stream.sinkTo(new KafkaSink({ brokers: ['localhost:9092'], topic: 'out', serializer: (o) => ({ key: o.id, value: JSON.stringify(o) }) }))
 */
export class KafkaSink<T> implements Sink<T> {
  readonly name = 'kafka'
  readonly guarantee: 'at-least-once' | 'at-most-once'
  readonly records: RecordSerializer<T>
  readonly settings: ProducerSettings
  private readonly options: KafkaSinkOptions<T>

  constructor(options: KafkaSinkOptions<T>) {
    optionsObject('kafkaSink options', options)
    kafkaClient('kafkaSink', options)
    const guarantee = oneOf('kafkaSink.guarantee', options.guarantee ?? 'at-least-once', ['none', 'at-least-once'])
    this.guarantee = guarantee === 'none' ? 'at-most-once' : 'at-least-once'
    this.records = new RecordSerializer('kafkaSink', options)
    this.settings = producerSettings('kafkaSink', options)
    this.options = options
  }

  createWriter(context: SinkWriterContext): KafkaSinkWriter<T> {
    return new KafkaSinkWriter(this, kafkaClient('kafkaSink', this.options), context)
  }
}

/**
 * The writer of {@link KafkaSink}. `inFlightRecords` and `requests` let a caller watch it.
 *
 * @example
 * const writer = new KafkaSink({ brokers, topic: 'out' }).createWriter(context)
 */
export class KafkaSinkWriter<T> implements SinkWriter<T> {
  private readonly producer: Producer
  private readonly connected: Promise<void>
  private readonly buffer = new TopicMessages()
  private chain: Promise<void>
  private linger: NodeJS.Timeout | undefined
  private failure: Error | undefined
  private waiting: { promise: Promise<void>; resolve: () => void } | undefined
  /** Records written and not yet acknowledged. */
  inFlightRecords = 0
  /** Produce requests sent. */
  requests = 0

  constructor(
    private readonly sink: KafkaSink<T>,
    kafka: Kafka,
    private readonly context: SinkWriterContext,
  ) {
    this.producer = kafka.producer({ createPartitioner: sink.records.createPartitioner, allowAutoTopicCreation: false })
    this.connected = this.producer.connect()
    this.connected.catch((error) => this.failed(error))
    this.chain = this.connected.catch(() => undefined)
  }

  write(value: T, timestamp: number | undefined): void {
    this.sink.records.add(this.buffer, value, timestamp)
    this.inFlightRecords++
    if (this.buffer.size >= this.sink.settings.batchSize) this.send()
    else if (this.linger === undefined) this.linger = setTimeout(() => this.send(), this.sink.settings.lingerMs)
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.inFlightRecords < this.sink.settings.maxInFlightRecords) return undefined
    this.send()
    if (this.waiting === undefined) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => (resolve = r))
      this.waiting = { promise, resolve }
    }
    return this.waiting.promise
  }

  async flush(): Promise<void> {
    this.send()
    await this.chain
    if (this.failure !== undefined) throw this.failure
  }

  /** The barrier: at-least-once waits for every acknowledgement; 'none' only hands the batch over. */
  async snapshotState(): Promise<unknown[]> {
    if (this.sink.guarantee === 'at-least-once') await this.flush()
    else this.send()
    return []
  }

  async close(): Promise<void> {
    clearTimeout(this.linger)
    await this.chain.catch(() => undefined)
    await this.producer.disconnect().catch(() => undefined)
  }

  /** Hands the buffered records to the producer, after the requests before them (order is kept). */
  private send(): void {
    clearTimeout(this.linger)
    this.linger = undefined
    if (this.buffer.size === 0 || this.failure !== undefined) return
    const count = this.buffer.size
    const topicMessages = this.buffer.drain()
    const { acks } = this.sink.settings
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return
      try {
        this.requests++
        await this.producer.sendBatch({ topicMessages, acks })
        this.inFlightRecords -= count
        if (this.waiting !== undefined && this.inFlightRecords <= this.sink.settings.maxInFlightRecords >> 1) {
          this.waiting.resolve()
          this.waiting = undefined
        }
      } catch (error) {
        this.failed(error)
      }
    })
  }

  private failed(error: unknown): void {
    if (this.failure !== undefined) return
    this.failure = new ConnectorError(
      'ERR_SEND',
      `kafka sink (subtask ${this.context.subtask}): sending failed: ${messageOf(error)}`,
      { cause: error, retriable: true },
    )
    this.waiting?.resolve()
    this.waiting = undefined
  }
}
