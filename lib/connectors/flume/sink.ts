import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { avroSourceService } from './avro-protocol.js'
import { type FlumeEvent, type FlumeSinkOptions, type FlumeSinkSettings, flumeSinkSettings } from './options.js'
import { FlumeSinkWriter } from './writer.js'

/**
 * Writes records to Apache Flume agents (Flink/Bahir's FlumeSink, without its losses): each record
 * becomes an event (`mapper`: headers and body), sent in batches by Flume's Avro RPC
 * (`AvroSourceProtocol.appendBatch`) or to Flume's HTTP source (JSONHandler), to one host, to hosts in
 * failover order, or load-balanced over them.
 *
 * Guarantee: at-least-once. Every checkpoint barrier, and `close`, wait until the agents accepted every
 * event written before them (committed to their channel); a batch no host accepts is sent again with
 * backoff and fails the job after `retry.maxRetries` — it is never dropped. A batch whose answer was
 * lost (a timeout, a dropped connection, an agent killed after committing) is sent again, so an
 * agent may receive it twice; order is kept within a subtask except around such a retry.
 *
 * @example
 * stream.sinkTo(flumeSink({ hosts: ['flume-1:41414', 'flume-2:41414'], clientType: 'failover',
 *   mapper: (o: Order) => ({ headers: { id: o.id }, body: JSON.stringify(o) }) }))
 */
export class FlumeSink<T> implements Sink<T> {
  readonly name = 'flume'
  readonly guarantee = 'at-least-once' as const
  readonly settings: FlumeSinkSettings
  private readonly mapper: (value: T) => FlumeEvent

  constructor(options: FlumeSinkOptions<T>) {
    this.settings = flumeSinkSettings(options)
    this.mapper = options.mapper
    if (this.settings.transport === 'avro') avroSourceService('flumeSink')
  }

  createWriter(context: SinkWriterContext): FlumeSinkWriter<T> {
    return new FlumeSinkWriter(this.settings, this.mapper, context)
  }
}
