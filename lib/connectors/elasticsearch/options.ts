import type { ConnectionOptions } from 'node:tls'
import { ConfigError } from '../../errors.js'
import { booleanOption, functionOption, oneOf, optionsObject, wholeNumber } from '../../util/options.js'
import { type ClientTls, clientTlsSettings } from '../base/client-tls.js'
import { type RetryOptions, type RetrySchedule, retrySchedule } from '../base/retry-options.js'
import {
  type ConnectionRetryOptions,
  CONNECTION_RETRY_OPTIONS,
  type RetrySettings,
  connectionRetry,
} from '../base/retry-options.js'

/** Where and how one action is written; the names are the bulk API's, in camel case. */
export interface ElasticsearchActionTarget {
  /** The index, alias or data stream (`dailyIndex('logs-', timestamp)` names one per day). */
  readonly index: string
  /** The document's id; without one, `index` lets Elasticsearch choose (not idempotent on replay). */
  readonly id?: string
  readonly routing?: string
  /** The ingest pipeline (index and create only). */
  readonly pipeline?: string
  /** With `versionType` 'external' or 'external_gte': the version the record carries. */
  readonly version?: number
  readonly versionType?: 'internal' | 'external' | 'external_gte'
  /** Optimistic concurrency: write only if the document still has this sequence number and primary term. */
  readonly ifSeqNo?: number
  readonly ifPrimaryTerm?: number
}

/** An update's script (`ctx._source.count += params.n`). */
export interface ElasticsearchScript {
  readonly source: string
  readonly lang?: string
  readonly params?: Readonly<Record<string, unknown>>
}

/** One bulk action: index (create or replace), create (fails with 409 if it exists), update, delete. */
export type ElasticsearchAction =
  | (ElasticsearchActionTarget & { readonly type: 'index' | 'create'; readonly document: object })
  | (ElasticsearchActionTarget & {
      readonly type: 'update'
      readonly id: string
      /** Fields merged into the document. */
      readonly doc?: object
      /** With `doc`: a missing document is created from `doc`. */
      readonly docAsUpsert?: boolean
      /** The document created when it is missing (with `doc` or `script`). */
      readonly upsert?: object
      readonly script?: ElasticsearchScript
      /** With `script` and `upsert`: a missing document is made by running the script on `upsert` (else `upsert` is stored as it is). */
      readonly scriptedUpsert?: boolean
      /** Elasticsearch retries the update itself this often on a version conflict. */
      readonly retryOnConflict?: number
    })
  | (ElasticsearchActionTarget & { readonly type: 'delete'; readonly id: string })

/** What the emitter knows besides the record. */
export interface EmitterContext {
  /** The record's event time, if it has one. */
  readonly timestamp: number | undefined
  readonly subtask: number
}

/** Turns a record into zero or more actions (Flink's ElasticsearchEmitter). Throwing makes the record invalid. */
export type ElasticsearchEmitter<T> = (
  record: T,
  context: EmitterContext,
) => ElasticsearchAction | readonly ElasticsearchAction[] | undefined

/** Credentials: basic, API key (the encoded `id:key` or both parts) or a bearer token. */
export type ElasticsearchAuth =
  | { readonly username: string; readonly password: string }
  | { readonly apiKey: string | { readonly id: string; readonly api_key: string } }
  | { readonly bearer: string }

/** How the cluster is reached. */
export interface ElasticsearchConnectionOptions extends ConnectionRetryOptions {
  /** One URL or several (`https://es1:9200`); default `http://127.0.0.1:9200`. */
  nodes?: string | readonly string[]
  auth?: ElasticsearchAuth
  /** TLS for https:// nodes: a private CA, a client certificate; `rejectUnauthorized` defaults to true. */
  tls?: ClientTls
  /** A bulk request not answered after this long fails (and is retried); default 30,000 ms. */
  requestTimeoutMs?: number
  /** Discover the cluster's other nodes on start and on a connection fault; default false (behind a load balancer, in containers). */
  sniffing?: boolean
}

/** Options of the Elasticsearch sink. */
export interface ElasticsearchSinkOptions<T> extends ElasticsearchConnectionOptions {
  /** Record → actions. */
  emitter: ElasticsearchEmitter<T>
  /** A bulk request is sent when it holds this many actions; default 1,000. */
  maxActions?: number
  /** … or this many bytes of NDJSON; default 5 MiB. */
  maxBytes?: number
  /** … or this long after its first action; default 1,000 ms. */
  flushIntervalMs?: number
  /** Bulk requests sent at once; default 1 (one in flight while the next one fills). */
  maxInFlightRequests?: number
  /** Records buffered or in flight before `ready()` holds the job back; default maxActions × (maxInFlightRequests + 1). */
  maxBufferedRecords?: number
  /** Bytes buffered or in flight before `ready()` holds the job back; default maxBytes × (maxInFlightRequests + 1). */
  maxBufferedBytes?: number
  /**
   * Retries of rejected (429, es_rejected_execution_exception), failed (5xx) or unanswered bulk
   * requests and items: only the failed items are sent again. multiplier 1 is a constant delay.
   * Default { maxRetries: 8, initialDelayMs: 100, maxDelayMs: 10,000, multiplier: 2, jitter: 0 }.
   */
  bulkRetry?: RetryOptions
  /** An item refused with 409 (version conflict, document exists): 'fail' (default), 'ignore', 'dead-letter'. */
  onConflict?: 'fail' | 'ignore' | 'dead-letter'
  /**
   * An item refused for good (400 mapping or parse error, other 4xx) or a record the emitter cannot
   * turn into actions: 'fail' (default), 'drop' (log line and metric), 'dead-letter' (with the reason and the action).
   */
  onInvalid?: 'fail' | 'drop' | 'dead-letter'
  /** 'at-least-once' (default): a barrier waits until every action before it is acknowledged. 'none': it only sends. */
  guarantee?: 'at-least-once' | 'none'
}

/** The connection's settings after validation. */
export interface ElasticsearchConnectionSettings {
  readonly nodes: readonly string[]
  readonly auth: ElasticsearchAuth | undefined
  readonly tls: ConnectionOptions | undefined
  readonly requestTimeoutMs: number
  readonly sniffing: boolean
  readonly retry: RetrySettings
}

/** The sink's settings after validation. */
export interface ElasticsearchSinkSettings<T> {
  readonly connection: ElasticsearchConnectionSettings
  readonly emitter: ElasticsearchEmitter<T>
  readonly maxActions: number
  readonly maxBytes: number
  readonly flushIntervalMs: number
  readonly maxInFlightRequests: number
  readonly maxBufferedRecords: number
  readonly maxBufferedBytes: number
  readonly bulkRetry: RetrySchedule
  readonly onConflict: 'fail' | 'ignore' | 'dead-letter'
  readonly onInvalid: 'fail' | 'drop' | 'dead-letter'
  readonly guarantee: 'at-least-once' | 'none'
}

const SINK_OPTIONS: Record<keyof ElasticsearchSinkOptions<unknown>, true> = {
  ...CONNECTION_RETRY_OPTIONS,
  nodes: true,
  auth: true,
  tls: true,
  requestTimeoutMs: true,
  sniffing: true,
  emitter: true,
  maxActions: true,
  maxBytes: true,
  flushIntervalMs: true,
  maxInFlightRequests: true,
  maxBufferedRecords: true,
  maxBufferedBytes: true,
  bulkRetry: true,
  onConflict: true,
  onInvalid: true,
  guarantee: true,
}

const MiB = 1024 * 1024

/**
 * Validates the sink's options (every bad value named by its path, unknown keys refused with a
 * suggestion) and applies the defaults.
 *
 * @example
 * elasticsearchSinkSettings({ emitter: (e) => ({ type: 'index', index: 'events', id: e.id, document: e }) }).maxActions // 1000
 */
export function elasticsearchSinkSettings<T>(options: ElasticsearchSinkOptions<T>): ElasticsearchSinkSettings<T> {
  const path = 'elasticsearchSink'
  const o = optionsObject(path, options, Object.keys(SINK_OPTIONS))
  const maxActions = wholeNumber(`${path}.maxActions`, o.maxActions, 1000, 1)
  const maxBytes = wholeNumber(`${path}.maxBytes`, o.maxBytes, 5 * MiB, 1)
  const maxInFlightRequests = wholeNumber(`${path}.maxInFlightRequests`, o.maxInFlightRequests, 1, 1, 64)
  const bulkRetry = retrySchedule(`${path}.bulkRetry`, {
    maxRetries: 8,
    initialDelayMs: 100,
    ...optionsObject(`${path}.bulkRetry`, o.bulkRetry, [
      'maxRetries',
      'initialDelayMs',
      'maxDelayMs',
      'multiplier',
      'jitter',
    ]),
  })
  return Object.freeze({
    connection: connectionSettings(path, o),
    emitter: functionOption<ElasticsearchEmitter<T>>(`${path}.emitter`, o.emitter),
    maxActions,
    maxBytes,
    flushIntervalMs: wholeNumber(`${path}.flushIntervalMs`, o.flushIntervalMs, 1000, 1),
    maxInFlightRequests,
    maxBufferedRecords: wholeNumber(
      `${path}.maxBufferedRecords`,
      o.maxBufferedRecords,
      maxActions * (maxInFlightRequests + 1),
      1,
    ),
    maxBufferedBytes: wholeNumber(
      `${path}.maxBufferedBytes`,
      o.maxBufferedBytes,
      maxBytes * (maxInFlightRequests + 1),
      1,
    ),
    bulkRetry,
    onConflict: oneOf(`${path}.onConflict`, o.onConflict, ['fail', 'ignore', 'dead-letter'], 'fail'),
    onInvalid: oneOf(`${path}.onInvalid`, o.onInvalid, ['fail', 'drop', 'dead-letter'], 'fail'),
    guarantee: oneOf(`${path}.guarantee`, o.guarantee, ['at-least-once', 'none'], 'at-least-once'),
  })
}

function connectionSettings(path: string, o: ElasticsearchConnectionOptions): ElasticsearchConnectionSettings {
  const nodes = o.nodes === undefined ? ['http://127.0.0.1:9200'] : typeof o.nodes === 'string' ? [o.nodes] : o.nodes
  if (!Array.isArray(nodes) || nodes.length === 0)
    throw new ConfigError(`${path}.nodes`, o.nodes, 'a URL or a non-empty list of URLs')
  nodes.forEach((node, i) => {
    const nodePath = typeof o.nodes === 'string' ? `${path}.nodes` : `${path}.nodes[${i}]`
    let url: URL | undefined
    try {
      url = typeof node === 'string' ? new URL(node) : undefined
    } catch {}
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new ConfigError(nodePath, node, 'an http:// or https:// URL')
  })
  return Object.freeze({
    nodes: Object.freeze([...nodes]),
    auth: authOption(`${path}.auth`, o.auth),
    tls: o.tls === undefined ? undefined : clientTlsSettings(`${path}.tls`, o.tls),
    requestTimeoutMs: wholeNumber(`${path}.requestTimeoutMs`, o.requestTimeoutMs, 30_000, 1),
    sniffing: booleanOption(`${path}.sniffing`, o.sniffing, false),
    retry: connectionRetry(path, o),
  })
}

function authOption(path: string, auth: unknown): ElasticsearchAuth | undefined {
  if (auth === undefined) return undefined
  const keys = typeof auth === 'object' && auth !== null ? Object.keys(auth).sort().join(',') : ''
  const a = auth as Record<string, unknown>
  if (keys === 'password,username' && typeof a.username === 'string' && typeof a.password === 'string')
    return a as ElasticsearchAuth
  if (keys === 'apiKey' && (typeof a.apiKey === 'string' || typeof a.apiKey === 'object')) return a as ElasticsearchAuth
  if (keys === 'bearer' && typeof a.bearer === 'string') return a as ElasticsearchAuth
  throw new ConfigError(path, '(hidden)', '{ username, password } | { apiKey } | { bearer }')
}
