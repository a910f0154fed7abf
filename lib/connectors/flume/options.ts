import { ConfigError } from '../../errors.js'
import { finiteNumber, functionOption, oneOf, optionsObject, wholeNumber } from '../../util/options.js'
import { type RetryOptions, type RetrySchedule, retrySchedule } from '../base/retry-options.js'

/** One Flume event, as the sink's `mapper` makes it from a record. */
export interface FlumeEvent {
  /** Flume headers (interceptors and channel selectors read them); default none. */
  readonly headers?: Readonly<Record<string, string>>
  /** The body: a string is sent as UTF-8. Over HTTP (JSONHandler) the body must be UTF-8 text. */
  readonly body: string | Uint8Array
}

/**
 * Which hosts a batch goes to, as Flume's RpcClient kinds: `default` one host; `failover` the hosts in
 * order, staying on a host until it fails; `load-balance` spreads batches over the hosts.
 */
export type FlumeClientType = 'default' | 'failover' | 'load-balance'

/** How a load-balancing client picks the host of each batch. */
export type FlumeHostSelector = 'round-robin' | 'random'

/** Backoff of a host that failed (load-balance only): it is skipped until its delay passed. */
export interface FlumeHostBackoffOptions {
  /** Skip a host this long after its first consecutive failure, doubled per further one; default 1,000 ms. */
  initialDelayMs?: number
  /** Ceiling of the skip; default 30,000 ms (Flume's `maxBackoff`). */
  maxDelayMs?: number
}

/** Options of {@link FlumeSink}. */
export interface FlumeSinkOptions<T> {
  /** `host:port` of the agents' Avro sources (or HTTP sources with `transport: 'http'`); one for `default`. */
  hosts: string | readonly string[]
  /** Turns a record into a Flume event. */
  mapper: (value: T) => FlumeEvent
  /** 'avro' (default): Flume's Avro RPC (`appendBatch`). 'http': Flume's HTTP source with its JSONHandler. */
  transport?: 'avro' | 'http'
  /** default (one host, the default), failover, load-balance. */
  clientType?: FlumeClientType
  /** load-balance: 'round-robin' (default) or 'random'. */
  selector?: FlumeHostSelector
  /** load-balance: how long a failed host is skipped; `false`: never skipped. Default `{}` (1 s doubling up to 30 s). */
  hostBackoff?: FlumeHostBackoffOptions | false
  /** Events per request (Flume's `batch-size`); default 100. */
  maxBatchRecords?: number
  /** How long a partial batch waits for more events; default 10 ms. */
  lingerMs?: number
  /** Events written and not yet acknowledged before the sink takes no more; default 10,000. */
  maxInFlightRecords?: number
  /** A request unanswered this long fails (its connection is closed); default 20,000 ms (Flume's). */
  requestTimeoutMs?: number
  /** A connection not established this long fails; default 20,000 ms (Flume's). */
  connectTimeoutMs?: number
  /**
   * A batch that no host accepted is sent again after a backoff; after `maxRetries` the job fails
   * (ERR_CONNECT when no host could be reached, else ERR_SEND). Defaults 5 retries, 200 ms doubling to 10 s.
   */
  retry?: RetryOptions
}

/** A host of the sink, parsed. */
export interface FlumeHost {
  readonly host: string
  readonly port: number
  /** 'host:port', as the user wrote it. */
  readonly address: string
}

/** The sink's settings after validation. */
export interface FlumeSinkSettings {
  readonly hosts: readonly FlumeHost[]
  readonly transport: 'avro' | 'http'
  readonly clientType: FlumeClientType
  readonly selector: FlumeHostSelector
  readonly hostBackoff: { readonly initialDelayMs: number; readonly maxDelayMs: number } | false
  readonly maxBatchRecords: number
  readonly lingerMs: number
  readonly maxInFlightRecords: number
  readonly requestTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly retry: RetrySchedule
}

const SINK_OPTIONS: Record<keyof FlumeSinkOptions<unknown>, true> = {
  hosts: true,
  mapper: true,
  transport: true,
  clientType: true,
  selector: true,
  hostBackoff: true,
  maxBatchRecords: true,
  lingerMs: true,
  maxInFlightRecords: true,
  requestTimeoutMs: true,
  connectTimeoutMs: true,
  retry: true,
}

/**
 * Validates the sink's options (each bad value named by its path) and applies the defaults.
 *
 * @example
 * flumeSinkSettings({ hosts: '127.0.0.1:41414', mapper: (s: string) => ({ body: s }) }).maxBatchRecords // 100
 */
export function flumeSinkSettings<T>(options: FlumeSinkOptions<T>): FlumeSinkSettings {
  const o = optionsObject('flumeSink', options, Object.keys(SINK_OPTIONS))
  functionOption('flumeSink.mapper', o.mapper)
  const clientType = oneOf('flumeSink.clientType', o.clientType, ['default', 'failover', 'load-balance'], 'default')
  const hosts = parseHosts(o.hosts)
  if (clientType === 'default' && hosts.length !== 1)
    throw new ConfigError(
      'flumeSink.hosts',
      o.hosts,
      "one host for clientType 'default' (failover or load-balance for more)",
    )
  if (clientType !== 'load-balance' && o.selector !== undefined)
    throw new ConfigError('flumeSink.selector', o.selector, "no selector: it is for clientType 'load-balance'")
  const maxBatchRecords = wholeNumber('flumeSink.maxBatchRecords', o.maxBatchRecords, 100, 1)
  return Object.freeze({
    hosts,
    transport: oneOf('flumeSink.transport', o.transport, ['avro', 'http'], 'avro'),
    clientType,
    selector: oneOf('flumeSink.selector', o.selector, ['round-robin', 'random'], 'round-robin'),
    hostBackoff: hostBackoff(o.hostBackoff),
    maxBatchRecords,
    lingerMs: wholeNumber('flumeSink.lingerMs', o.lingerMs, 10, 0),
    maxInFlightRecords: wholeNumber('flumeSink.maxInFlightRecords', o.maxInFlightRecords, 10_000, maxBatchRecords),
    requestTimeoutMs: wholeNumber('flumeSink.requestTimeoutMs', o.requestTimeoutMs, 20_000, 1),
    connectTimeoutMs: wholeNumber('flumeSink.connectTimeoutMs', o.connectTimeoutMs, 20_000, 1),
    retry: retrySchedule('flumeSink.retry', o.retry),
  })
}

function parseHosts(value: unknown): FlumeHost[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0)
    throw new ConfigError('flumeSink.hosts', value, "'host:port' or a non-empty array of them")
  return list.map((address: unknown, i) => {
    const path = typeof value === 'string' ? 'flumeSink.hosts' : `flumeSink.hosts[${i}]`
    const match = typeof address === 'string' ? /^([^\s:/@]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(address) : null
    const port = Number(match?.[2])
    if (match === null || port < 1 || port > 65_535) throw new ConfigError(path, address, "'host:port'")
    return { host: match[1]!.replace(/^\[|\]$/g, ''), port, address: address as string }
  })
}

function hostBackoff(value: unknown): FlumeSinkSettings['hostBackoff'] {
  if (value === false) return false
  const o = optionsObject<FlumeHostBackoffOptions>('flumeSink.hostBackoff', value as FlumeHostBackoffOptions, [
    'initialDelayMs',
    'maxDelayMs',
  ])
  const initialDelayMs = finiteNumber('flumeSink.hostBackoff.initialDelayMs', o.initialDelayMs, 1_000, 0)
  const maxDelayMs = finiteNumber(
    'flumeSink.hostBackoff.maxDelayMs',
    o.maxDelayMs,
    Math.max(30_000, initialDelayMs),
    initialDelayMs,
  )
  return { initialDelayMs, maxDelayMs }
}
