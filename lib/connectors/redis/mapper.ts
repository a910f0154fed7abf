import { ConfigError } from '../../errors.js'

/** The commands a {@link RedisSink} writes with (Bahir's RedisCommand, with XADD). */
export const REDIS_COMMANDS = [
  'LPUSH',
  'RPUSH',
  'SADD',
  'SET',
  'PFADD',
  'PUBLISH',
  'ZADD',
  'ZREM',
  'HSET',
  'HINCRBY',
  'INCRBY',
  'XADD',
] as const

/** One of {@link REDIS_COMMANDS}. */
export type RedisCommand = (typeof REDIS_COMMANDS)[number]

/** A value Redis takes as an argument. */
export type RedisArgument = string | Buffer | number

/**
 * Turns a record into one Redis command (Bahir's RedisMapper). `key` is always the Redis key the
 * command writes to; `value` is the element, member, value, message or increment; the rest depends on
 * the command:
 *
 * | command | sent as |
 * | --- | --- |
 * | LPUSH, RPUSH, SADD, PFADD | `<CMD> key value` |
 * | SET | `SET key value [EX expirySeconds]` |
 * | PUBLISH | `PUBLISH key value` (key = channel) |
 * | ZADD | `ZADD key score value` (`score` required) |
 * | ZREM | `ZREM key value` |
 * | HSET | `HSET key additionalKey value` (`additionalKey` = the field, required) |
 * | HINCRBY | `HINCRBY key additionalKey value` (value = integer increment) |
 * | INCRBY | `INCRBY key value` (value = integer increment) |
 * | XADD | `XADD key [MAXLEN ~ n] * field value …`: `value` a record of fields, or one value stored under `additionalKey` (default 'value') |
 *
 * Unlike Bahir, whose HSET and ZADD read the hash or sorted-set name from the additional key, here the
 * key is always the key; the additional key is the hash field.
 *
 * @example
 * const pageViews: RedisMapper<{ page: string; n: number }> = {
 *   command: 'HINCRBY', key: () => 'views', additionalKey: (v) => v.page, value: (v) => v.n,
 * }
 */
export interface RedisMapper<T> {
  readonly command: RedisCommand
  key(record: T): string
  value(record: T): RedisArgument | Readonly<Record<string, RedisArgument>>
  /** The hash field of HSET and HINCRBY; the field name of a single-value XADD. */
  additionalKey?(record: T): string
  /** The score of ZADD. */
  score?(record: T): number
  /** SET only: expire the key after this many seconds (undefined: no expiry). */
  expirySeconds?(record: T): number | undefined
}

/** One command as ioredis takes it: the name, then the arguments. */
export type CommandLine = [string, ...RedisArgument[]]

/**
 * Checks a mapper once, when the sink is built: the command is known and the functions the command
 * needs are there.
 *
 * @example
 * validateMapper('redisSink.mapper', { command: 'ZADD', key: () => 'k', value: () => 'm' }) // throws: … score …
 */
export function validateMapper<T>(option: string, mapper: RedisMapper<T>): RedisMapper<T> {
  if (mapper === null || typeof mapper !== 'object')
    throw new ConfigError(option, mapper, '{ command, key(record), value(record), … }')
  if (!(REDIS_COMMANDS as readonly string[]).includes(mapper.command))
    throw new ConfigError(`${option}.command`, mapper.command, REDIS_COMMANDS.join(' | '))
  for (const fn of ['key', 'value'] as const)
    if (typeof mapper[fn] !== 'function')
      throw new ConfigError(`${option}.${fn}`, mapper[fn], 'a function of the record')
  for (const fn of ['additionalKey', 'score', 'expirySeconds'] as const) {
    if (mapper[fn] !== undefined && typeof mapper[fn] !== 'function')
      throw new ConfigError(`${option}.${fn}`, mapper[fn], 'a function of the record')
  }
  if (mapper.command === 'ZADD' && mapper.score === undefined)
    throw new ConfigError(`${option}.score`, undefined, 'a function giving the score (ZADD needs one)')
  if ((mapper.command === 'HSET' || mapper.command === 'HINCRBY') && mapper.additionalKey === undefined) {
    throw new ConfigError(
      `${option}.additionalKey`,
      undefined,
      `a function giving the hash field (${mapper.command} needs one)`,
    )
  }
  if (mapper.expirySeconds !== undefined && mapper.command !== 'SET')
    throw new ConfigError(`${option}.expirySeconds`, mapper.expirySeconds, 'nothing: only SET takes an expiry')
  return mapper
}

/**
 * The command line of one record. Per record: it allocates the array and nothing else.
 *
 * @example
 * commandLine(mapper, { page: '/', n: 1 }, undefined) // ['HINCRBY', 'views', '/', 1]
 */
export function commandLine<T>(mapper: RedisMapper<T>, record: T, streamMaxLength: number | undefined): CommandLine {
  const key = mapper.key(record)
  const value = mapper.value(record)
  const command = mapper.command
  switch (command) {
    case 'SET': {
      const ttl = mapper.expirySeconds?.(record)
      return ttl === undefined ? ['SET', key, scalar(command, value)] : ['SET', key, scalar(command, value), 'EX', ttl]
    }
    case 'ZADD':
      return ['ZADD', key, mapper.score!(record), scalar(command, value)]
    case 'HSET':
    case 'HINCRBY':
      return [command, key, mapper.additionalKey!(record), scalar(command, value)]
    case 'XADD': {
      const line: CommandLine =
        streamMaxLength === undefined ? ['XADD', key, '*'] : ['XADD', key, 'MAXLEN', '~', streamMaxLength, '*']
      if (typeof value === 'object' && !Buffer.isBuffer(value)) {
        for (const field in value) line.push(field, value[field]!)
      } else line.push(mapper.additionalKey?.(record) ?? 'value', value)
      return line
    }
    default:
      return [command, key, scalar(command, value)]
  }
}

function scalar(command: RedisCommand, value: RedisArgument | Readonly<Record<string, RedisArgument>>): RedisArgument {
  if (typeof value === 'object' && !Buffer.isBuffer(value))
    throw new TypeError(`redis mapper: ${command} takes a string, Buffer or number value, got an object`)
  return value
}
