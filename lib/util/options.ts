import { ConfigError } from '../errors.js'

/**
 * The one set of option validators. Each takes the option's path as the user would write it
 * (`kafkaSource.retry.maxDelayMs`), checks one value, and throws a {@link ConfigError} naming that path
 * and what was expected; each returns the value (or its default) typed, so settings are built in one
 * expression per option.
 */

/**
 * Checks that `options` is a plain object (or undefined, giving `{}`) and holds only `known` keys. An
 * unknown key fails, suggesting the closest known one, so a misspelt option never falls back to a
 * default silently; a key whose value is undefined counts as absent. With `path` '' the keys are
 * top-level option names (the environment's).
 *
 * @example
 * optionsObject('kafkaSource', { groupID: 'g' }, ['groupId', 'topics'])
 * // ConfigError: invalid option kafkaSource.groupID: "g" (expected no such option; did you mean groupId?)
 */
export function optionsObject<O extends object>(path: string, options: O | undefined, known: readonly string[]): O {
  if (options === undefined) return {} as O
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new ConfigError(path, options, 'an object')
  for (const key of Object.keys(options)) {
    const value = (options as Record<string, unknown>)[key]
    if (known.includes(key) || value === undefined) continue
    const closest = closestName(key, known)
    const hint = closest === undefined ? `known: ${known.join(', ')}` : `did you mean ${closest}?`
    throw new ConfigError(path === '' ? key : `${path}.${key}`, value, `no such option; ${hint}`)
  }
  return options
}

/**
 * The option names of an options type, for {@link optionsObject}: listed as an object of `true`s, so the
 * compiler fails when the type gains an option the list lacks.
 *
 * @example
 * const SOURCE_OPTIONS = optionKeys<SourceOptions>({ name: true, uid: true, parallelism: true })
 */
export function optionKeys<O extends object>(keys: { readonly [K in keyof Required<O>]: true }): readonly string[] {
  return Object.keys(keys)
}

/**
 * The known name closest to `word` by edit distance (case-insensitive), if it is close enough to be a
 * likely misspelling: at most a third of the longer name's letters differ (a swap of two neighbours
 * counts as one). Failing that, a known name of four or more letters that the word starts with
 * (`prefetchCount` → `prefetch`), the longest one.
 *
 * @example
 * closestName('paralelism', ['parallelism', 'maxParallelism']) // 'parallelism'
 * closestName('prot', ['host', 'port']) // 'port'
 * closestName('prefetchCount', ['prefetch', 'queue']) // 'prefetch'
 */
export function closestName(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  let prefix: string | undefined
  for (const name of known) {
    const distance = editDistance(lower, name.toLowerCase())
    if (distance < bestDistance) {
      best = name
      bestDistance = distance
    }
    if (name.length >= 4 && lower.startsWith(name.toLowerCase()) && name.length > (prefix?.length ?? 0)) prefix = name
  }
  if (best === undefined) return undefined
  return bestDistance <= Math.max(1, Math.floor(Math.max(word.length, best.length) / 3)) ? best : prefix
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        current[j] = Math.min(current[j]!, beforePrevious[j - 2]! + 1)
    }
    beforePrevious = previous
    previous = current
  }
  return previous[b.length]!
}

/**
 * A non-empty string, or `fallback` when the value is undefined and a fallback is given.
 *
 * @example
 * const topic = nonEmptyString('kafkaSink.topic', options.topic)
 */
export function nonEmptyString(path: string, value: unknown, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'string' || value === '') throw new ConfigError(path, value, 'a non-empty string')
  return value
}

/**
 * A whole number within `[min, max]`, or `fallback` when undefined.
 *
 * @example
 * const batchSize = wholeNumber('redisSink.batchSize', options.batchSize, 100, 1)
 */
export function wholeNumber(
  path: string,
  value: unknown,
  fallback: number | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`
    throw new ConfigError(path, value, `a whole number ${range}`)
  }
  return value
}

/**
 * A finite number of at least `min` (default: greater than zero), or `fallback` when undefined.
 *
 * @example
 * const lingerMs = finiteNumber('kafkaSink.lingerMs', options.lingerMs, 5, 0)
 */
export function finiteNumber(path: string, value: unknown, fallback: number | undefined, min?: number): number {
  if (value === undefined && fallback !== undefined) return fallback
  const ok = typeof value === 'number' && Number.isFinite(value) && (min === undefined ? value > 0 : value >= min)
  if (!ok) throw new ConfigError(path, value, min === undefined ? 'a positive number' : `a number of at least ${min}`)
  return value as number
}

/**
 * One of the allowed values, or `fallback` when undefined.
 *
 * @example
 * const guarantee = oneOf('mqttSink.guarantee', options.guarantee, ['none', 'at-least-once'], 'at-least-once')
 */
export function oneOf<V extends string | number>(path: string, value: unknown, allowed: readonly V[], fallback?: V): V {
  if (value === undefined && fallback !== undefined) return fallback
  if (!allowed.includes(value as V))
    throw new ConfigError(path, value, allowed.map((v) => JSON.stringify(v)).join(' | '))
  return value as V
}

/**
 * true or false, or `fallback` when undefined.
 *
 * @example
 * const persistent = booleanOption('activemqSink.persistent', options.persistent, true)
 */
export function booleanOption(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new ConfigError(path, value, 'true or false')
  return value
}

/**
 * A function, or `fallback` when undefined (pass no fallback to require one).
 *
 * @example
 * const serializer = functionOption('redisSink.serializer', options.serializer, JSON.stringify)
 */
export function functionOption<F extends (...args: never[]) => unknown>(path: string, value: unknown, fallback?: F): F {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value !== 'function') throw new ConfigError(path, value, 'a function')
  return value as F
}
