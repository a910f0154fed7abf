import type { Service } from 'avsc'
import { optionalDependency } from '../../util/optional-dependency.js'

const avsc = await optionalDependency<typeof import('avsc')>('avsc')

/**
 * Flume's `AvroSourceProtocol` (flume-ng-sdk's `flume.avdl`), as JSON: what an agent's Avro source
 * serves. The protocol's name and namespace are Flume's, so the handshake's hash matches the agent's and
 * the protocol text is sent only once per connection.
 */
export const AVRO_SOURCE_PROTOCOL = {
  protocol: 'AvroSourceProtocol',
  namespace: 'org.apache.flume.source.avro',
  types: [
    { type: 'enum', name: 'Status', symbols: ['OK', 'FAILED', 'UNKNOWN'] },
    {
      type: 'record',
      name: 'AvroFlumeEvent',
      fields: [
        { name: 'headers', type: { type: 'map', values: 'string' } },
        { name: 'body', type: 'bytes' },
      ],
    },
  ],
  messages: {
    append: { request: [{ name: 'event', type: 'AvroFlumeEvent' }], response: 'Status' },
    appendBatch: {
      request: [{ name: 'events', type: { type: 'array', items: 'AvroFlumeEvent' } }],
      response: 'Status',
    },
  },
} as const

/** An event on the wire: what `AvroFlumeEvent` holds. */
export interface AvroFlumeEvent {
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
}

/** What an Avro source answers to `append` and `appendBatch`. */
export type AvroStatus = 'OK' | 'FAILED' | 'UNKNOWN'

let service: Service | undefined

/**
 * The avsc service of {@link AVRO_SOURCE_PROTOCOL} (avsc is loaded when the connector module is;
 * a missing avsc fails here, naming `usedBy`).
 *
 * @example
 * const client = avroSourceService('flumeSink').createClient({ timeout: 20_000 })
 */
export function avroSourceService(usedBy: string): Service {
  service ??= avsc.get(usedBy).Service.forProtocol(AVRO_SOURCE_PROTOCOL)
  return service
}
