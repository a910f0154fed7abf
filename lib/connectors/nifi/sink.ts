import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { type NiFiSinkOptions, type NiFiSinkSettings, nifiSinkSettings } from './options.js'
import { NiFiWriter } from './writer.js'

/**
 * Writes records as FlowFiles to an input port of a remote NiFi (HTTP site-to-site), exactly-once:
 * the FlowFiles of a checkpoint are sent in transactions that are committed when the checkpoint
 * completes (two-phase commit within NiFi's transaction TTL, which the writer extends while it waits).
 *
 * @example
 * stream.sinkTo(new NiFiSink({ urls: 'http://127.0.0.1:8080/nifi', portName: 'from-sluice',
 *   flowFile: (o: Order) => ({ attributes: { 'order.id': o.id }, content: Buffer.from(JSON.stringify(o)) }) }))
 */
export class NiFiSink<T> implements Sink<T> {
  readonly name = 'nifi'
  readonly guarantee = 'exactly-once' as const
  readonly settings: NiFiSinkSettings<T>

  constructor(options: NiFiSinkOptions<T>) {
    this.settings = nifiSinkSettings(options)
  }

  createWriter(context: SinkWriterContext, restored?: readonly unknown[]): NiFiWriter<T> {
    return new NiFiWriter(this.settings, context, restored ?? [])
  }
}
