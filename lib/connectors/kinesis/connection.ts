import type { KinesisClient, KinesisClientConfig } from '@aws-sdk/client-kinesis'
import { optionalDependency } from '../../util/optional-dependency.js'
import { ConfigError } from '../../errors.js'
import type { KinesisConnectionOptions } from './options.js'

const kinesis = await optionalDependency<typeof import('@aws-sdk/client-kinesis')>('@aws-sdk/client-kinesis')
const smithy = await optionalDependency<typeof import('@smithy/node-http-handler')>('@smithy/node-http-handler')

/**
 * The client of the connection options.
 *
 * @example
 * kinesisClient('kinesisSource', { endpoint: 'http://127.0.0.1:4567', region: 'us-east-1' })
 */
export function kinesisClient(owner: string, options: KinesisConnectionOptions): KinesisClient {
  const { KinesisClient } = kinesis.get(owner)
  const { client, region, endpoint } = options
  if (client instanceof KinesisClient) return client
  if (client !== undefined && (client === null || typeof client !== 'object'))
    throw new ConfigError(`${owner}.client`, client, 'a KinesisClient or its configuration')
  if (region !== undefined && (typeof region !== 'string' || region === ''))
    throw new ConfigError(`${owner}.region`, region, 'a region name')
  if (endpoint !== undefined && (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint)))
    throw new ConfigError(`${owner}.endpoint`, endpoint, 'an http:// or https:// URL')
  const config: KinesisClientConfig = { ...(client ?? {}) }
  if (region !== undefined) config.region = region
  if (endpoint !== undefined) config.endpoint = endpoint
  if (
    typeof config.endpoint === 'string' &&
    config.endpoint.startsWith('http://') &&
    config.requestHandler === undefined
  )
    config.requestHandler = new (smithy.get(owner).NodeHttpHandler)()
  return new KinesisClient(config)
}

/**
 * Where the connection options point, for error messages (user info of an endpoint URL left out).
 *
 * @example
 * describeEndpoint({ endpoint: 'http://127.0.0.1:4567' }) // 'endpoint http://127.0.0.1:4567'
 */
export function describeEndpoint(options: KinesisConnectionOptions): string {
  const client = options.client
  // a KinesisClient sends; its configuration does not (checked by shape: the SDK may not be installed)
  const config =
    client !== undefined && typeof (client as { send?: unknown }).send !== 'function'
      ? (client as KinesisClientConfig)
      : undefined
  const endpoint = options.endpoint ?? (typeof config?.endpoint === 'string' ? config.endpoint : undefined)
  if (endpoint !== undefined) return `endpoint ${endpoint.replace(/\/\/[^/@]*@/, '//')}`
  const region = options.region ?? (typeof config?.region === 'string' ? config.region : undefined)
  return region === undefined ? "the SDK's default endpoint" : `region ${region}`
}
