import type { RedisSinkOptions, RedisStreamSourceOptions } from './options.js'
import { RedisSink } from './sink.js'
import { RedisStreamSource } from './source.js'

export { RedisLink, describeConnection, type RedisClient } from './connection.js'
export {
  REDIS_COMMANDS,
  commandLine,
  validateMapper,
  type CommandLine,
  type RedisArgument,
  type RedisCommand,
  type RedisMapper,
} from './mapper.js'
export type {
  RedisAddress,
  RedisClusterConnection,
  RedisConnection,
  RedisRetryOptions,
  RedisSentinelConnection,
  RedisSingleConnection,
  RedisSinkOptions,
  RedisStreamSourceOptions,
} from './options.js'
export { RedisSink } from './sink.js'
export { RedisSinkWriter } from './writer.js'
export { RedisStreamReader } from './reader.js'
export type { RedisStreamEntry, RedisStreamSplit } from './options.js'
export { RedisStreamSource } from './source.js'

/**
 * A sink writing each record as the Redis command its mapper describes, pipelined (Bahir's RedisSink). At-least-once.
 *
 * @example
 * stream.sinkTo(redisSink({ mapper: { command: 'HSET', key: () => 'users', additionalKey: (u: User) => u.id, value: (u: User) => u.name } }))
 */
export function redisSink<T>(options: RedisSinkOptions<T>): RedisSink<T> {
  return new RedisSink(options)
}

/**
 * A source reading a Redis stream through a consumer group, acknowledging on checkpoint completion.
 *
 * @example
 * env.fromSource(redisStreamSource({ stream: 'orders', group: 'billing', guarantee: 'exactly-once' }), { uid: 'orders' })
 */
export function redisStreamSource(options: RedisStreamSourceOptions): RedisStreamSource {
  return new RedisStreamSource(options)
}
