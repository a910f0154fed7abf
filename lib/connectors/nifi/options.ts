import { ConfigError } from '../../errors.js'
import {
  booleanOption,
  functionOption,
  nonEmptyString,
  optionKeys,
  optionsObject,
  wholeNumber,
} from '../../util/options.js'
import {
  type ConnectionRetryOptions,
  CONNECTION_RETRY_OPTIONS,
  type RetrySettings,
  connectionRetry,
} from '../base/retry-options.js'
import type { FlowFile } from './flowfile-codec.js'
import type { PortAddress } from './remote-cluster.js'
import type { SiteToSiteClientSettings, SiteToSiteTls } from './site-to-site-client.js'

export type { FlowFile } from './flowfile-codec.js'

/** A record of the NiFi source, and what the sink's builder returns (Flink's NiFiDataPacket). */
export type NiFiRecord = FlowFile

/** What the NiFi source and sink share: where NiFi is, how to reach it, how to retry. */
export interface NiFiConnectionOptions extends ConnectionRetryOptions {
  /** One or more URLs of the remote NiFi (`http://host:8080/nifi`); more than one: tried in turn for discovery. */
  urls: string | readonly string[]
  /** The port's name in the remote root group; resolved to its id through `/site-to-site`. One of portName, portId. */
  portName?: string
  /** The port's id. One of portName, portId. */
  portId?: string
  /** TLS for `https://` URLs: client certificate, key, passphrase, CAs. */
  tls?: SiteToSiteTls
  /** A NiFi access token, sent as `Authorization: Bearer …`. Never logged. */
  bearerToken?: string
  /** A request without an answer after this long fails (and is retried); default 30,000 ms. */
  requestTimeoutMs?: number
  /** How often the peer list is fetched again; default 60,000 ms. */
  peerRefreshMs?: number
  /** FlowFiles per transaction at most; default 1000. */
  batchCount?: number
  /** Bytes of content per transaction at most; default 4 MiB. */
  batchSizeBytes?: number
  /**
   * Source: how long NiFi may take filling one transaction (sent as a hint header); sink: how long
   * records wait before being sent in a transaction (still committed on the checkpoint). Default 0: no limit.
   */
  batchDurationMs?: number
}

/** Options of the NiFi source (reads an output port). */
export interface NiFiSourceOptions extends NiFiConnectionOptions {
  /** Transactions held open (received, awaiting their checkpoint) at most; default 4. */
  maxOpenTransactions?: number
  /** Wait before asking again when the port had nothing; default 200 ms. */
  pollIntervalMs?: number
  /**
   * How long the uuids of FlowFiles whose confirmation did not reach NiFi are kept to drop their
   * redelivery; must exceed NiFi's transaction TTL (default 30 s) plus a restart; default 600,000 ms.
   */
  dedupRetentionMs?: number
  /**
   * Makes the source bounded: it ends once the port has handed out nothing for this long, counted from
   * the last FlowFile received (or the start). The final checkpoint confirms what it still holds.
   * Default: unbounded (NiFi ports have no end).
   */
  endWhenIdleMs?: number
}

/** Options of the NiFi sink (writes to an input port). */
export interface NiFiSinkOptions<T> extends NiFiConnectionOptions {
  /** Builds the FlowFile of a record: attributes (strings) and content (a Buffer). */
  flowFile: (record: T) => FlowFile
  /** Transactions being sent at once (answer not yet in) before the writer stops taking records; default 4. */
  maxOpenTransactions?: number
  /** Send a transaction's FlowFiles again in a new one when it expired before its checkpoint completed; default true. */
  resendExpired?: boolean
}

/** The validated connection settings. */
export interface NiFiConnectionSettings {
  readonly address: PortAddress
  readonly client: SiteToSiteClientSettings
  readonly retry: RetrySettings
  /** Sink: how long records wait before they are sent; 0 = until the batch is full or the barrier. */
  readonly batchDurationMs: number
}

/** The validated source settings. */
export interface NiFiSourceSettings extends NiFiConnectionSettings {
  readonly maxOpenTransactions: number
  readonly pollIntervalMs: number
  readonly dedupRetentionMs: number
  /** Ends the source after this long without a FlowFile; undefined: never ends. */
  readonly endWhenIdleMs: number | undefined
}

/** The validated sink settings. */
export interface NiFiSinkSettings<T> extends NiFiConnectionSettings {
  readonly flowFile: (record: T) => FlowFile
  readonly maxOpenTransactions: number
  readonly resendExpired: boolean
}

const CONNECTION_KEYS = {
  ...CONNECTION_RETRY_OPTIONS,
  urls: true,
  portName: true,
  portId: true,
  tls: true,
  bearerToken: true,
  requestTimeoutMs: true,
  peerRefreshMs: true,
  batchCount: true,
  batchSizeBytes: true,
  batchDurationMs: true,
} as const

const SOURCE_KEYS = optionKeys<NiFiSourceOptions>({
  ...CONNECTION_KEYS,
  maxOpenTransactions: true,
  pollIntervalMs: true,
  dedupRetentionMs: true,
  endWhenIdleMs: true,
})

const SINK_KEYS = optionKeys<NiFiSinkOptions<unknown>>({
  ...CONNECTION_KEYS,
  flowFile: true,
  maxOpenTransactions: true,
  resendExpired: true,
})

const TLS_KEYS = optionKeys<SiteToSiteTls>({
  ca: true,
  cert: true,
  key: true,
  passphrase: true,
  rejectUnauthorized: true,
})

/**
 * Validates the source's options and applies the defaults.
 *
 * @example
 * nifiSourceSettings({ urls: 'http://127.0.0.1:8080/nifi', portName: 'to-sluice' }).maxOpenTransactions // 4
 */
export function nifiSourceSettings(options: NiFiSourceOptions): NiFiSourceSettings {
  const o = optionsObject('nifiSource', options, SOURCE_KEYS)
  return Object.freeze({
    ...connectionSettings('nifiSource', o, 'receive'),
    maxOpenTransactions: wholeNumber('nifiSource.maxOpenTransactions', o.maxOpenTransactions, 4, 1, 1024),
    pollIntervalMs: wholeNumber('nifiSource.pollIntervalMs', o.pollIntervalMs, 200, 1),
    dedupRetentionMs: wholeNumber('nifiSource.dedupRetentionMs', o.dedupRetentionMs, 600_000, 0),
    endWhenIdleMs:
      o.endWhenIdleMs === undefined
        ? undefined
        : wholeNumber('nifiSource.endWhenIdleMs', o.endWhenIdleMs, undefined, 1),
  })
}

/**
 * Validates the sink's options and applies the defaults.
 *
 * @example
 * nifiSinkSettings({ urls: ['http://n1:8080/nifi'], portName: 'from-sluice', flowFile: (s: string) => ({ attributes: {}, content: Buffer.from(s) }) }).maxOpenTransactions // 4
 */
export function nifiSinkSettings<T>(options: NiFiSinkOptions<T>): NiFiSinkSettings<T> {
  const o = optionsObject('nifiSink', options, SINK_KEYS)
  return Object.freeze({
    ...connectionSettings('nifiSink', o, 'send'),
    flowFile: functionOption<(record: T) => FlowFile>('nifiSink.flowFile', o.flowFile),
    maxOpenTransactions: wholeNumber('nifiSink.maxOpenTransactions', o.maxOpenTransactions, 4, 1, 1024),
    resendExpired: booleanOption('nifiSink.resendExpired', o.resendExpired, true),
  })
}

function connectionSettings(
  owner: string,
  o: NiFiConnectionOptions,
  direction: 'send' | 'receive',
): NiFiConnectionSettings {
  const urls = typeof o.urls === 'string' ? [o.urls] : o.urls
  if (!Array.isArray(urls) || urls.length === 0)
    throw new ConfigError(`${owner}.urls`, o.urls, 'a URL or a non-empty array of URLs')
  urls.forEach((url, i) => {
    const path = `${owner}.urls${typeof o.urls === 'string' ? '' : `[${i}]`}`
    let parsed: URL
    try {
      parsed = new URL(nonEmptyString(path, url))
    } catch (e) {
      if (e instanceof ConfigError) throw e
      throw new ConfigError(path, url, 'an http:// or https:// URL')
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new ConfigError(path, `${parsed.protocol}//${parsed.host}`, 'an http:// or https:// URL')
    if (parsed.username !== '' || parsed.password !== '')
      throw new ConfigError(path, '(hidden)', 'a URL without user info (use bearerToken or tls)')
  })
  if ((o.portName === undefined) === (o.portId === undefined))
    throw new ConfigError(`${owner}.portName`, o.portName, 'exactly one of portName and portId')
  const portName = o.portName === undefined ? undefined : nonEmptyString(`${owner}.portName`, o.portName)
  const portId = o.portId === undefined ? undefined : nonEmptyString(`${owner}.portId`, o.portId)
  const tls = o.tls === undefined ? undefined : optionsObject(`${owner}.tls`, o.tls, TLS_KEYS)
  if (tls?.passphrase !== undefined && typeof tls.passphrase !== 'string')
    throw new ConfigError(`${owner}.tls.passphrase`, tls.passphrase, 'a string')
  if (tls?.rejectUnauthorized !== undefined)
    booleanOption(`${owner}.tls.rejectUnauthorized`, tls.rejectUnauthorized, true)
  for (const k of ['ca', 'cert', 'key'] as const)
    if (tls?.[k] !== undefined && typeof tls[k] !== 'string' && !Buffer.isBuffer(tls[k]))
      throw new ConfigError(`${owner}.tls.${k}`, '(hidden)', 'a PEM string or Buffer')
  if (o.bearerToken !== undefined && (typeof o.bearerToken !== 'string' || o.bearerToken === ''))
    throw new ConfigError(`${owner}.bearerToken`, o.bearerToken, 'a non-empty string')
  const batchDurationMs = wholeNumber(`${owner}.batchDurationMs`, o.batchDurationMs, 0, 0)
  return {
    address: {
      urls: Object.freeze([...urls]),
      direction,
      portName,
      portId,
      peerRefreshMs: wholeNumber(`${owner}.peerRefreshMs`, o.peerRefreshMs, 60_000, 1),
    },
    client: {
      tls: tls === undefined ? undefined : { ...tls },
      bearerToken: o.bearerToken,
      requestTimeoutMs: wholeNumber(`${owner}.requestTimeoutMs`, o.requestTimeoutMs, 30_000, 1),
      batchCount: wholeNumber(`${owner}.batchCount`, o.batchCount, 1000, 1),
      batchSizeBytes: wholeNumber(`${owner}.batchSizeBytes`, o.batchSizeBytes, 4 * 1024 * 1024, 1),
      batchDurationMs: direction === 'receive' ? batchDurationMs : 0,
    },
    retry: connectionRetry(owner, o),
    batchDurationMs,
  }
}
