import { ioredis } from './connection.js'
import { RedisSinkWriter } from './writer.js'
import { ConfigError } from '../../errors.js'
import type { Sink, SinkWriterContext } from '../../runtime/sink.js'
import { type RedisMapper, validateMapper } from './mapper.js'
import { type RedisSinkOptions, type RedisSinkParts, type RedisSinkSettings, validateSinkOptions } from './options.js'

/**
 * Writes every record as one Redis command that a mapper describes (Bahir's RedisSink): LPUSH, RPUSH,
 * SADD, SET (with an optional expiry), PFADD, PUBLISH, ZADD, ZREM, HSET, HINCRBY, INCRBY, XADD. To a
 * single server, a cluster, or a master behind sentinels (the `connection` option).
 *
 * Commands are **pipelined**: a pipeline of up to `maxPipelineCommands` goes out when full, `lingerMs`
 * after its first command, and on every checkpoint barrier; at most `maxPipelinesInFlight` wait for
 * their answers before `ready()` holds the job back. On a barrier (`snapshotState`) and at the end of
 * input the writer sends what it holds and waits for every answer.
 *
 * Guarantee: **at-least-once**. A checkpoint completes only after Redis answered every command written
 * before its barrier; a restored job writes the records after the checkpoint again. Commands that a
 * dropped connection left unanswered are sent again on the next connection, so idempotent commands
 * (SET, SADD, HSET, ZADD, ZREM, PFADD) end in the same state and the others (LPUSH, RPUSH, INCRBY,
 * HINCRBY, XADD, PUBLISH) may apply twice. A command Redis rejects (WRONGTYPE, a non-integer
 * increment) fails the job with ConnectorError 'ERR_REDIS_COMMAND'; a Redis unreachable for
 * `retry.maxRetries` retries fails it with 'ERR_CONNECT'.
 *
 * @example
 * stream.sinkTo(new RedisSink({ connection: { port: 6379 }, mapper: { command: 'SADD', key: () => 'seen', value: (id: string) => id } }))
 */
export class RedisSink<T> implements Sink<T>, RedisSinkParts<T> {
  readonly name = 'redis'
  readonly guarantee = 'at-least-once'
  readonly mapper: RedisMapper<T>
  readonly settings: RedisSinkSettings

  constructor(options: RedisSinkOptions<T>) {
    ioredis.check('redisSink')
    if (options === null || typeof options !== 'object')
      throw new ConfigError('redisSink options', options, 'an options object with a mapper')
    this.mapper = validateMapper('redisSink.mapper', options.mapper)
    this.settings = validateSinkOptions(options as RedisSinkOptions<unknown>)
  }

  /**
   * The writer of one subtask: its own connection, opened at once.
   *
   * @example
   * const writer = sink.createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createWriter(context: SinkWriterContext): RedisSinkWriter<T> {
    return new RedisSinkWriter(this, context.processingTime, context.metrics)
  }
}
