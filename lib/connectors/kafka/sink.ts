import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { oneOf, optionsObject, wholeNumber } from '../../util/options.js'
import { kafkaClient } from './connection.js'
import { KAFKA_SINK_KEYS, type KafkaSinkOptions, type ProducerSettings } from './options.js'
import { RecordSerializer } from './producer-records.js'
import { KafkaSinkWriter } from './writer.js'

/**
 * Validates the sending options of a Kafka sink.
 *
 * @example
 * producerSettings('kafkaSink', { topic: 'out', batchSize: 1000 })
 */
export function producerSettings<T>(owner: string, options: KafkaSinkOptions<T>): ProducerSettings {
  return {
    batchSize: wholeNumber(`${owner}.batchSize`, options.batchSize, 500, 1),
    lingerMs: wholeNumber(`${owner}.lingerMs`, options.lingerMs, 5, 0),
    maxInFlightRecords: wholeNumber(`${owner}.maxInFlightRecords`, options.maxInFlightRecords, 10_000, 1),
    acks: oneOf(`${owner}.acks`, options.acks, [-1, 1], -1),
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
    options = optionsObject('kafkaSink', options, KAFKA_SINK_KEYS)
    kafkaClient('kafkaSink', options)
    const guarantee = oneOf('kafkaSink.guarantee', options.guarantee, ['none', 'at-least-once'], 'at-least-once')
    this.guarantee = guarantee === 'none' ? 'at-most-once' : 'at-least-once'
    this.records = new RecordSerializer('kafkaSink', options)
    this.settings = producerSettings('kafkaSink', options)
    this.options = options
  }

  createWriter(context: SinkWriterContext): KafkaSinkWriter<T> {
    return new KafkaSinkWriter(
      this.records,
      this.settings,
      this.guarantee,
      kafkaClient('kafkaSink', this.options),
      context,
    )
  }
}
