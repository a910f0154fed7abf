import { ConfigError } from '../../errors.js'
import { nonEmptyString, optionKeys, optionsObject, wholeNumber } from '../../util/options.js'
import {
  type ConnectionRetryOptions,
  CONNECTION_RETRY_OPTIONS,
  type RetrySettings,
  connectionRetry,
} from '../base/retry-options.js'

/**
 * Options of {@link webHdfs}: where the NameNode's WebHDFS (or an HttpFS gateway) answers, who the
 * requests act as, and how long and how often a request is tried. Kerberos (SPNEGO) is not supported;
 * a delegation token obtained elsewhere is.
 */
export interface WebHdfsOptions extends ConnectionRetryOptions {
  /**
   * The NameNode's HTTP address, 'http://namenode:9870' (or HttpFS's, 'http://httpfs:14000'); several
   * for an HA pair: a request that cannot reach one, or is answered by a standby, goes to the next.
   */
  url: string | readonly string[]
  /** `user.name` of every request (simple authentication); default none (the server's static user). */
  user?: string
  /** A delegation token (`delegation=`) instead of `user`; never printed in errors or logs. */
  delegationToken?: string
  /** A request (one HTTP exchange) that has not answered after this long fails, and is retried; default 30,000 ms. */
  requestTimeoutMs?: number
  /**
   * Bytes a writable file holds before it sends them with one APPEND; default 4 MiB. `sync()` and
   * `close()` send what is held whatever its size. Each APPEND is one HTTP exchange with the DataNode,
   * so larger means fewer, cheaper appends and more memory per open file.
   */
  appendBufferBytes?: number
}

/** {@link WebHdfsOptions} after validation, every default filled in. */
export interface WebHdfsSettings {
  /** The NameNode base URLs, without a trailing slash and without user info. */
  readonly urls: readonly string[]
  readonly user: string | undefined
  readonly delegationToken: string | undefined
  readonly requestTimeoutMs: number
  readonly appendBufferBytes: number
  readonly retry: RetrySettings
}

const WEBHDFS_OPTIONS = optionKeys<WebHdfsOptions>({
  ...CONNECTION_RETRY_OPTIONS,
  url: true,
  user: true,
  delegationToken: true,
  requestTimeoutMs: true,
  appendBufferBytes: true,
})

/**
 * Validates {@link WebHdfsOptions} (as `webHdfs.<option>`), so a bad option fails when the job is built.
 *
 * @example
 * webHdfsSettings({ url: 'http://127.0.0.1:9870', user: 'etl', retry: { maxRetries: 3 } })
 */
export function webHdfsSettings(options: WebHdfsOptions): WebHdfsSettings {
  const o = optionsObject('webHdfs', options, WEBHDFS_OPTIONS)
  if (o.url === undefined) throw new ConfigError('webHdfs.url', o.url, "the NameNode's WebHDFS URL, 'http://host:9870'")
  const given = typeof o.url === 'string' ? [o.url] : o.url
  if (!Array.isArray(given) || given.length === 0)
    throw new ConfigError('webHdfs.url', o.url, 'a URL or a non-empty array of URLs')
  const urls = given.map((url: unknown, i: number) => {
    const path = typeof o.url === 'string' ? 'webHdfs.url' : `webHdfs.url[${i}]`
    let parsed: URL
    try {
      parsed = new URL(nonEmptyString(path, url))
    } catch (error) {
      if (error instanceof ConfigError) throw error
      throw new ConfigError(path, url, "an http(s) URL, 'http://namenode:9870'")
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new ConfigError(path, url, "an http(s) URL (webhdfs:// is spelled http://), 'http://namenode:9870'")
    if (parsed.username !== '' || parsed.password !== '')
      throw new ConfigError(path, url, 'a URL without user info: give webHdfs.user or webHdfs.delegationToken')
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}`
  })
  const user = o.user === undefined ? undefined : nonEmptyString('webHdfs.user', o.user)
  const delegationToken =
    o.delegationToken === undefined ? undefined : nonEmptyString('webHdfs.delegationToken', o.delegationToken)
  return Object.freeze({
    urls,
    user,
    delegationToken,
    requestTimeoutMs: wholeNumber('webHdfs.requestTimeoutMs', o.requestTimeoutMs, 30_000, 1),
    appendBufferBytes: wholeNumber('webHdfs.appendBufferBytes', o.appendBufferBytes, 4 << 20, 1),
    retry: connectionRetry('webHdfs', o),
  })
}
