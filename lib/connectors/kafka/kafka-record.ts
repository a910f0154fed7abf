import type { RawKafkaMessage } from './kafka-internals.js'

/** Header values as they arrive: a Buffer, or several Buffers for a repeated header name. */
export type KafkaHeaders<H = Buffer> = Record<string, H | H[] | undefined>

/**
 * One Kafka record as the source emits it by default: where it came from, its timestamp (the record's
 * CreateTime or LogAppendTime, ms), key, value and headers. Offsets are numbers (exact below 2^53).
 */
export interface KafkaRecord<K = Buffer | null, V = Buffer | null, H = Buffer> {
  readonly topic: string
  readonly partition: number
  readonly offset: number
  readonly timestamp: number
  readonly key: K
  readonly value: V
  readonly headers: KafkaHeaders<H>
}

/** A record as the `'string'` deserializer emits it: UTF-8 key, value and headers. */
export type StringKafkaRecord = KafkaRecord<string | null, string | null, string>

/**
 * Turns a raw record into what the source emits. Built-ins: `'buffer'` (the default; key and value
 * stay Buffers) and `'string'` (UTF-8 key, value and headers). Both never fail. A custom function that
 * throws fails the source with DecodeError 'ERR_DECODE' naming topic, partition and offset — for
 * payloads that may be malformed, keep a built-in and `decode()` downstream, whose failures go to the
 * dead-letter output.
 */
export type KafkaDeserializer<T> = 'buffer' | 'string' | ((record: KafkaRecord) => T)

/** What the sink's serializer returns for one value: Kafka's ProducerRecord without the topic. */
export interface KafkaProducerRecord {
  readonly key?: Buffer | string | null
  readonly value: Buffer | string | null
  readonly headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>
  /** A fixed partition; otherwise the partitioner chooses. */
  readonly partition?: number
  /** Record timestamp in ms; default: the record's event timestamp in the job, else the time of sending. */
  readonly timestamp?: number
}

/**
 * The record the source hands to its deserializer.
 *
 * @example
 * const record = toKafkaRecord('orders', 0, message) // { topic: 'orders', partition: 0, offset: 12, … }
 */
export function toKafkaRecord(topic: string, partition: number, message: RawKafkaMessage): KafkaRecord {
  return {
    topic,
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: message.key,
    value: message.value,
    headers: (message.headers ?? {}) as KafkaHeaders,
  }
}

/**
 * The record with UTF-8 strings for key, value and headers (the `'string'` deserializer).
 *
 * @example
 * stringRecord(record).value // 'hello'
 */
export function stringRecord(record: KafkaRecord): KafkaRecord<string | null, string | null, string> {
  const headers: KafkaHeaders<string> = {}
  for (const name in record.headers) {
    const h = record.headers[name]
    headers[name] =
      h === undefined ? undefined : Array.isArray(h) ? h.map((b) => b.toString('utf8')) : h.toString('utf8')
  }
  return {
    ...record,
    key: record.key === null ? null : record.key.toString('utf8'),
    value: record.value === null ? null : record.value.toString('utf8'),
    headers,
  }
}
