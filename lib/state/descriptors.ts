import { jsonSerializer } from './serializers/json-serializer.js'
import type { StateSerializer } from './serializers/serializer.js'
import { ConfigError } from '../errors.js'
import { optionKeys, optionsObject } from '../util/options.js'

/**
 * Time-to-live of keyed state: an entry not written (or, with `updateOn: 'read-and-write'`, not read)
 * for `ttlMs` of processing time is expired. Expiry is per key and state (Flink expires per list element
 * and map entry; here a key's whole list or map expires together). Expired entries are removed when
 * read and left out of snapshots.
 */
export interface StateTtl {
  ttlMs: number
  /** When the clock restarts; default 'create-and-write'. */
  updateOn?: 'create-and-write' | 'read-and-write'
  /** Whether an expired entry not yet removed may still be returned; default false. */
  returnExpired?: boolean
}

/** Options every state descriptor takes. */
export interface StateOptions {
  ttl?: StateTtl
  /** How the state is written into checkpoints; default {@link jsonSerializer}. */
  serializer?: StateSerializer<unknown>
  /** Serve this state by key through the queryable-state server under this name. */
  queryable?: string
}

/** Flink's AggregateFunction: an accumulator that values are added to, and a result read from it. */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC
  add(value: IN, accumulator: ACC): ACC
  getResult(accumulator: ACC): OUT
  /** Needed by merging (session) windows. */
  merge?(a: ACC, b: ACC): ACC
}

const STATE_OPTIONS = optionKeys<StateOptions>({ ttl: true, serializer: true, queryable: true })
const TTL_OPTIONS = optionKeys<StateTtl>({ ttlMs: true, updateOn: true, returnExpired: true })

abstract class StateDescriptor<K extends string> {
  abstract readonly kind: K
  readonly ttl: StateTtl | undefined
  readonly queryable: string | undefined
  readonly serializer: StateSerializer<unknown>

  constructor(
    readonly name: string,
    options: StateOptions = {},
    ownOptions: readonly string[] = [],
  ) {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError('state name', name, 'a non-empty string')
    optionsObject(`state ${name}`, options, ownOptions.length === 0 ? STATE_OPTIONS : [...STATE_OPTIONS, ...ownOptions])
    if (options.ttl !== undefined) optionsObject(`state ${name}.ttl`, options.ttl, TTL_OPTIONS)
    if (options.ttl !== undefined && !(Number.isFinite(options.ttl.ttlMs) && options.ttl.ttlMs > 0)) {
      throw new ConfigError(`state ${name}: ttl.ttlMs`, options.ttl.ttlMs, 'a positive number of milliseconds')
    }
    this.ttl = options.ttl
    this.queryable = options.queryable
    this.serializer = options.serializer ?? jsonSerializer
  }
}

/**
 * A single value per key.
 *
 * @example
 * const count = new ValueStateDescriptor<number>('count', { defaultValue: 0 })
 * // in a keyed process function: const state = ctx.getState(count); state.update(state.value() + 1)
 */
export class ValueStateDescriptor<T> extends StateDescriptor<'value'> {
  readonly kind = 'value' as const
  readonly defaultValue: T | undefined

  constructor(name: string, options: StateOptions & { defaultValue?: T } = {}) {
    super(name, options, ['defaultValue'])
    this.defaultValue = options.defaultValue
  }
}

/**
 * A list of values per key.
 *
 * @example
 * const seen = new ListStateDescriptor<string>('seen')
 */
export class ListStateDescriptor<T> extends StateDescriptor<'list'> {
  readonly kind = 'list' as const
  declare readonly _element?: T
}

/**
 * A map per key.
 *
 * @example
 * const perPage = new MapStateDescriptor<string, number>('hits-per-page')
 */
export class MapStateDescriptor<UK, UV> extends StateDescriptor<'map'> {
  readonly kind = 'map' as const
  declare readonly _entry?: [UK, UV]
}

/**
 * A value per key that added values are folded into with a reduce function.
 *
 * @example
 * const total = new ReducingStateDescriptor<number>('total', (a, b) => a + b)
 */
export class ReducingStateDescriptor<T> extends StateDescriptor<'reducing'> {
  readonly kind = 'reducing' as const

  constructor(
    name: string,
    readonly reduce: (a: T, b: T) => T,
    options: StateOptions = {},
  ) {
    super(name, options)
    if (typeof reduce !== 'function')
      throw new ConfigError(`state ${name}: reduce`, reduce, 'a function (a, b) => value')
  }
}

/**
 * A per-key accumulator that values are added to with an {@link AggregateFunction}.
 *
 * @example
 * const avg = new AggregatingStateDescriptor('avg', {
 *   createAccumulator: () => ({ sum: 0, n: 0 }),
 *   add: (v: number, a) => ({ sum: a.sum + v, n: a.n + 1 }),
 *   getResult: (a) => a.sum / a.n,
 * })
 */
export class AggregatingStateDescriptor<IN, ACC, OUT> extends StateDescriptor<'aggregating'> {
  readonly kind = 'aggregating' as const

  constructor(
    name: string,
    readonly aggregate: AggregateFunction<IN, ACC, OUT>,
    options: StateOptions = {},
  ) {
    super(name, options)
    if (
      typeof aggregate?.createAccumulator !== 'function' ||
      typeof aggregate.add !== 'function' ||
      typeof aggregate.getResult !== 'function'
    ) {
      throw new ConfigError(
        `state ${name}: aggregate`,
        aggregate,
        'an object with createAccumulator, add and getResult',
      )
    }
  }
}

/** Any keyed state descriptor. */
export type AnyStateDescriptor =
  | ValueStateDescriptor<any>
  | ListStateDescriptor<any>
  | MapStateDescriptor<any, any>
  | ReducingStateDescriptor<any>
  | AggregatingStateDescriptor<any, any, any>
