import type { ICustomPartitioner, Message } from 'kafkajs'
import { ConfigError, describeValue } from '../../errors.js'
import { optionalDependency } from '../../util/optional-dependency.js'
import type { KafkaProducerRecord } from './kafka-record.js'
import type { KafkaPartitioner, KafkaSinkOptions } from './options.js'

const kafkajs = await optionalDependency<typeof import('kafkajs')>('kafkajs')

/** Messages waiting to be sent, grouped by topic, in write order. */
export class TopicMessages {
  private readonly byTopic = new Map<string, Message[]>()
  size = 0

  add(topic: string, message: Message): void {
    let list = this.byTopic.get(topic)
    if (list === undefined) this.byTopic.set(topic, (list = []))
    list.push(message)
    this.size++
  }

  /** Takes everything out, as kafkajs's `sendBatch` wants it. */
  drain(): Array<{ topic: string; messages: Message[] }> {
    const result = [...this.byTopic].map(([topic, messages]) => ({ topic, messages }))
    this.byTopic.clear()
    this.size = 0
    return result
  }
}

/**
 * Turns the values of a sink into Kafka messages: its topic, its serializer, and its partitioner (a
 * custom partitioner sees the original value, kept next to the message until kafkajs asks).
 *
 * @example
 * const records = new RecordSerializer(options); records.add(buffer, value, timestamp)
 */
export class RecordSerializer<T> {
  private readonly topicOf: (value: T) => string
  private readonly serialize: (value: T) => KafkaProducerRecord
  private readonly values = new WeakMap<Message, T>()
  readonly createPartitioner: ICustomPartitioner

  constructor(owner: string, options: KafkaSinkOptions<T>) {
    const { topic, serializer = defaultSerializer, partitioner = 'default' } = options
    if (typeof topic === 'string') {
      if (topic === '') throw new ConfigError(`${owner}.topic`, topic, 'a topic name or a function value → topic')
      this.topicOf = () => topic
    } else if (typeof topic === 'function') this.topicOf = topic
    else throw new ConfigError(`${owner}.topic`, topic, 'a topic name or a function value → topic')
    if (typeof serializer !== 'function')
      throw new ConfigError(
        `${owner}.serializer`,
        serializer,
        'a function value → { key?, value, headers?, partition?, timestamp? }',
      )
    this.serialize = serializer
    this.createPartitioner = pinned(this.partitionerFactory(owner, partitioner))
  }

  /** Serializes `value` and adds it to `into`; the record's timestamp is its event time when it has one, else the time it is sent. */
  add(into: TopicMessages, value: T, timestamp: number | undefined): void {
    const record = this.serialize(value)
    if (record === null || typeof record !== 'object' || !('value' in record))
      throw new TypeError(
        `kafka sink serializer returned ${describeValue(record)} for ${describeValue(value)}, not { value, key?, headers? }`,
      )
    // Without one, kafkajs stamps the time of sending once per batch: no Date.now() and string per record.
    const time = record.timestamp ?? timestamp
    const message: Message = {
      key: record.key,
      value: record.value,
      headers: record.headers as Message['headers'],
      partition: record.partition,
      timestamp: time === undefined ? undefined : String(time),
    }
    if (this.custom) this.values.set(message, value)
    into.add(this.topicOf(value), message)
  }

  private custom = false

  private partitionerFactory(owner: string, partitioner: KafkaPartitioner<T>): ICustomPartitioner {
    if (partitioner === 'default') return kafkajs.get(owner).Partitioners.DefaultPartitioner
    if (partitioner === 'round-robin') {
      return () => {
        const next = new Map<string, number>()
        return ({ topic, partitionMetadata, message }) => {
          if (message.partition != null) return message.partition
          const n = next.get(topic) ?? 0
          next.set(topic, n + 1)
          return partitionMetadata[n % partitionMetadata.length]!.partitionId
        }
      }
    }
    if (typeof partitioner !== 'function')
      throw new ConfigError(
        `${owner}.partitioner`,
        partitioner,
        "'default' | 'round-robin' | a function ({ topic, partitionCount, key, value }) => partition",
      )
    this.custom = true
    return () =>
      ({ topic, partitionMetadata, message }) => {
        if (message.partition != null) return message.partition
        const partition = partitioner({
          topic,
          partitionCount: partitionMetadata.length,
          key: message.key,
          value: this.values.get(message) as T,
        })
        if (!Number.isInteger(partition) || partition < 0 || partition >= partitionMetadata.length) {
          throw new RangeError(
            `kafka sink partitioner returned ${describeValue(partition)} for topic ${topic} with ${partitionMetadata.length} partitions`,
          )
        }
        return partition
      }
  }
}

/**
 * The partitioner, with each choice kept on its message. kafkajs partitions a batch again on every
 * retry of `sendBatch`, under the sequence numbers of the failed attempt: a round-robin (or custom)
 * choice made anew sends other records under a sequence the broker already holds from a partition the
 * attempt did write, which it drops as a duplicate (records lost) while keeping the attempt's (records
 * twice). Kept, a retry sends each record to the partition it first chose: the broker's deduplication
 * by sequence then holds, and an exactly-once sink's transaction has every record once.
 *
 * @example
 * kafka.producer({ createPartitioner: pinned(Partitioners.DefaultPartitioner) })
 */
function pinned(factory: ICustomPartitioner): ICustomPartitioner {
  return () => {
    const choose = factory()
    return (args) => {
      args.message.partition ??= choose(args)
      return args.message.partition
    }
  }
}

/** Strings and Buffers as they are, anything else as JSON. */
function defaultSerializer(value: unknown): KafkaProducerRecord {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return { value }
  return { value: JSON.stringify(value) ?? null }
}
