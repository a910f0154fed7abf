import type { NiFiSinkOptions, NiFiSourceOptions } from './options.js'
import { NiFiSink } from './sink.js'
import { NiFiSource } from './source.js'

export type { AckStateV1 } from '../base/checkpoint-acks.js'
export type { ConnectionRetryOptions } from '../base/retry-options.js'
export type { FlowFile, NiFiConnectionOptions, NiFiRecord, NiFiSinkOptions, NiFiSourceOptions } from './options.js'
export type { SiteToSiteTls } from './site-to-site-client.js'
export { decodeFlowFiles, encodeFlowFiles, siteToSiteChecksum } from './flowfile-codec.js'
export { SiteToSiteClient, SiteToSiteError } from './site-to-site-client.js'
export { type NiFiHeldStateV1, NiFiReader, type NiFiSourceSplit } from './reader.js'
export { NiFiSink } from './sink.js'
export { NiFiSource } from './source.js'
export { type NiFiSinkStateV1, NiFiWriter } from './writer.js'

/**
 * A stream of the FlowFiles of a remote NiFi's output port, over HTTP site-to-site, exactly-once
 * (confirmed to NiFi when the checkpoint covering them completes; redeliveries dropped by uuid).
 *
 * @example
 * env.fromSource(nifiSource({ urls: 'http://127.0.0.1:8080/nifi', portName: 'to-sluice' }), { uid: 'nifi-in' })
 *   .pipe(map((f: NiFiRecord) => f.content.toString()))
 */
export function nifiSource(options: NiFiSourceOptions): NiFiSource {
  return new NiFiSource(options)
}

/**
 * A sink sending records as FlowFiles to a remote NiFi's input port, exactly-once (transactions
 * committed when the checkpoint completes).
 *
 * @example
 * stream.sinkTo(nifiSink<string>({ urls: 'http://127.0.0.1:8080/nifi', portName: 'from-sluice',
 *   flowFile: (s) => ({ attributes: { 'mime.type': 'text/plain' }, content: Buffer.from(s) }) }))
 */
export function nifiSink<T>(options: NiFiSinkOptions<T>): NiFiSink<T> {
  return new NiFiSink<T>(options)
}
