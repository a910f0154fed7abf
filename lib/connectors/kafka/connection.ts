import type { Kafka } from 'kafkajs'
import { optionalDependency } from '../../util/optional-dependency.js'
import { ConfigError } from '../../errors.js'
import type { KafkaConnectionOptions } from './options.js'

const kafkajs = await optionalDependency<typeof import('kafkajs')>('kafkajs')

/**
 * A kafkajs client from the connection options, logging nothing of its own (the connector logs).
 *
 * @example
 * const kafka = kafkaClient('kafkaSource', { brokers: ['localhost:9092'] })
 */
export function kafkaClient(owner: string, options: KafkaConnectionOptions): Kafka {
  const { Kafka, logLevel } = kafkajs.get(owner)
  const { client, brokers, clientId = 'sluice' } = options
  if (client instanceof Kafka) return client
  if (client !== undefined) {
    if (client === null || typeof client !== 'object' || !('brokers' in client))
      throw new ConfigError(`${owner}.client`, client, 'a kafkajs Kafka instance or KafkaConfig')
    return new Kafka({ logLevel: logLevel.NOTHING, clientId, ...client })
  }
  if (
    !Array.isArray(brokers) ||
    brokers.length === 0 ||
    !brokers.every((b) => typeof b === 'string' && /^[^:]+:\d+$/.test(b))
  ) {
    throw new ConfigError(`${owner}.brokers`, brokers, "a non-empty list of 'host:port' (or a client)")
  }
  if (typeof clientId !== 'string' || clientId === '')
    throw new ConfigError(`${owner}.clientId`, clientId, 'a non-empty string')
  return new Kafka({ brokers, clientId, logLevel: logLevel.NOTHING })
}

/**
 * The brokers of the connection options as a user wrote them, for error messages.
 *
 * @example
 * describeBrokers({ brokers: ['a:9092', 'b:9092'] }) // 'brokers a:9092,b:9092'
 */
export function describeBrokers(options: KafkaConnectionOptions): string {
  const client = options.client
  // a KafkaConfig has brokers; a Kafka instance does not (checked by shape: kafkajs may not be installed)
  const configured = client !== undefined && 'brokers' in client ? (client as { brokers?: unknown }).brokers : undefined
  const brokers = options.brokers ?? configured
  return Array.isArray(brokers) ? `brokers ${brokers.join(',')}` : 'the brokers of the kafkajs client'
}
