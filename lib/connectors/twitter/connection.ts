import type { Readable } from 'node:stream'
import type { TweetStream, TwitterApi } from 'twitter-api-v2'
import type { ConnectorError } from '../../errors.js'
import type { Logger } from '../../logging.js'
import type { Counter, MetricGroup } from '../../runtime/metric-group.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { backoffDelay } from '../../util/backoff.js'
import { ReconnectLoop } from '../base/reconnect-loop.js'
import { TwitterStreamError, twitterClient, twitterError } from './client.js'
import type { TwitterSourceSettings } from './options.js'
import { syncRules } from './rules.js'
import { mendFraming } from './stream-framing.js'

/** What a {@link TwitterConnection} hands its reader. */
export interface TwitterStreamHandlers {
  /** One parsed stream message (a tweet, or X's error/disconnect notice), and when it came. */
  message(payload: unknown, at: number): void
  /** A stream line that is not JSON. */
  malformed(error: Error): void
  /** The retries are used up, or X refused for good (credentials, rules, parameters). */
  failed(error: ConnectorError): void
}

/** The library's event names (ETwitterStreamEvent), as strings: the module is loaded lazily. */
const EVENT = {
  data: 'data event content',
  /** A message the library recognised as X's error payload (operational disconnect, …). */
  dataError: 'data twitter error',
  keepAlive: 'data keep-alive',
  parseError: 'data tweet parse error',
  connectionError: 'connection error',
} as const

/**
 * Keeps one X stream connected, as X asks: a `twitter-api-v2` TweetStream per connection (the
 * library's own reconnect and keep-alive timer are off), wrapped in a ReconnectLoop whose delays
 * follow X's guidance — linear for network errors and stalls (`networkDelayStepMs` per retry up to
 * `networkMaxDelayMs`), exponential for HTTP errors (`initialDelayMs` × `multiplier`, up to
 * `maxDelayMs`), and for a 429 until `x-rate-limit-reset`. Silence longer than `stallTimeoutMs` is a
 * stall, timed on the subtask's processing-time service. The first connection syncs the rules; every
 * connection after a loss (or after a restore) asks for `backfill_minutes` covering the gap.
 *
 * Threading: the library's callbacks and the timers run on the event loop between the reader's
 * calls; they only hand messages over.
 *
 * @example
 * const connection = new TwitterConnection(settings, processingTime, logger, metrics, handlers, undefined)
 * connection.start()
 */
export class TwitterConnection {
  private readonly loop: ReconnectLoop<TweetStream>
  private client: TwitterApi | undefined
  private stream: TweetStream | undefined
  private rulesSynced = false
  private lastActivity = 0
  private paused = false
  private cancelStall: (() => void) | undefined
  private readonly stalls: Counter
  private readonly attempts: Counter
  private readonly keepAlives: Counter
  private readonly failedAttempts: Counter
  private readonly backfills: Counter
  private readonly backfillGaps: Counter

  constructor(
    private readonly settings: TwitterSourceSettings,
    private readonly time: ProcessingTimeService,
    private readonly log: Logger | undefined,
    metrics: MetricGroup,
    private readonly handlers: TwitterStreamHandlers,
    /** Since when tweets are missing: a restore's checkpoint time, or a lost stream's last activity. */
    private missingSince: number | undefined,
  ) {
    this.stalls = metrics.counter('stalls')
    this.attempts = metrics.counter('connectAttempts')
    this.keepAlives = metrics.counter('keepAlives')
    this.failedAttempts = metrics.counter('failedAttempts')
    this.backfills = metrics.counter('backfills')
    this.backfillGaps = metrics.counter('backfillGaps')
    metrics.gauge('connections', () => this.loop.connections)
    const path = settings.stream === 'sample' ? 'tweets/sample/stream' : 'tweets/search/stream'
    this.loop = new ReconnectLoop<TweetStream>(
      settings.retry,
      time,
      `twitterSource ${settings.baseUrl}${path}`,
      () => this.open(),
      {
        connected: (stream) => this.connected(stream),
        failed: (error) => handlers.failed(error),
        discard: (stream) => stream.destroy(),
        retryDelay: (cause, retry) => this.retryDelay(cause, retry),
      },
    )
  }

  start(): void {
    this.loop.start()
  }

  /** Stops reading from the socket (the buffer is full); X disconnects a client that stays behind. */
  pause(): void {
    this.paused = true
    this.body()?.pause()
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.lastActivity = this.time.now()
    this.body()?.resume()
  }

  /** Drops the stream and connects again (X announced an operational disconnect). */
  reconnect(cause: TwitterStreamError): void {
    if (this.stream !== undefined) this.drop(this.stream, cause)
  }

  close(): void {
    this.loop.close()
    this.cancelStall?.()
    this.stream?.destroy()
    this.stream = undefined
  }

  private async open(): Promise<TweetStream> {
    this.attempts.inc()
    try {
      return await this.connect()
    } catch (error) {
      this.failedAttempts.inc()
      throw error
    }
  }

  private async connect(): Promise<TweetStream> {
    const s = this.settings
    this.client ??= twitterClient(s)
    if (!this.rulesSynced && s.rules !== undefined) {
      await syncRules(this.client, s.rules, s.bearerToken, this.log)
      this.rulesSynced = true
    }
    const backfill = this.backfillMinutes()
    const params = { ...s.query, ...(backfill > 0 ? { backfill_minutes: backfill } : {}), autoConnect: false as const }
    const stream: TweetStream =
      s.stream === 'sample' ? this.client.v2.sampleStream(params) : this.client.v2.searchStream(params)
    const message = (payload: unknown): void => {
      const now = this.time.now()
      this.lastActivity = now
      this.handlers.message(payload, now)
    }
    stream.on(EVENT.data, message)
    stream.on(EVENT.dataError, message)
    const endsMessage = mendFraming(stream)
    stream.on(EVENT.keepAlive, () => {
      this.lastActivity = this.time.now()
      if (!endsMessage()) this.keepAlives.inc()
    })
    stream.on(EVENT.parseError, (error: Error) => {
      this.lastActivity = this.time.now()
      this.handlers.malformed(error)
    })
    stream.on(EVENT.connectionError, (error: unknown) =>
      this.drop(stream, twitterError(error, s.bearerToken, 'stream')),
    )
    let cancelTimeout: (() => void) | undefined
    try {
      await Promise.race([
        stream.connect({ autoReconnect: false, keepAliveTimeout: 'disable' }),
        new Promise<never>((_, reject) => {
          cancelTimeout = this.time.scheduleAt(this.time.now() + s.retry.connectTimeoutMs, () =>
            reject(
              new TwitterStreamError('network', `no answer within connectTimeoutMs (${s.retry.connectTimeoutMs} ms)`),
            ),
          )
        }),
      ])
    } catch (error) {
      stream.destroy()
      throw twitterError(error, s.bearerToken, `connect to ${s.stream} stream`)
    } finally {
      cancelTimeout?.()
    }
    if (backfill > 0) this.backfills.inc()
    return stream
  }

  private connected(stream: TweetStream): void {
    this.stream = stream
    this.missingSince = undefined
    this.lastActivity = this.time.now()
    if (this.paused) this.body()?.pause()
    this.log?.info('twitter stream connected', { stream: this.settings.stream, connections: this.loop.connections })
    this.watchStall()
  }

  /** Minutes of backfill to ask for: the gap since tweets went missing, rounded up, within the setting. */
  private backfillMinutes(): number {
    const allowed = this.settings.backfillMinutes
    if (allowed === 0 || this.missingSince === undefined) return 0
    const gapMs = this.time.now() - this.missingSince
    if (gapMs > allowed * 60_000) {
      this.backfillGaps.inc()
      this.log?.warn('twitter outage longer than the backfill window: tweets of the gap are lost', {
        gapMs,
        backfillMinutes: allowed,
      })
    }
    return Math.min(allowed, Math.max(1, Math.ceil(gapMs / 60_000)))
  }

  private drop(stream: TweetStream, cause: TwitterStreamError): void {
    if (stream !== this.stream) return
    this.stream = undefined
    this.cancelStall?.()
    this.cancelStall = undefined
    stream.destroy()
    this.missingSince ??= this.lastActivity
    this.log?.warn('twitter stream lost; reconnecting', { reason: cause.message })
    this.loop.lost(cause)
  }

  private watchStall(): void {
    const stallMs = this.settings.stallTimeoutMs
    this.cancelStall = this.time.scheduleAt(this.lastActivity + stallMs, () => {
      this.cancelStall = undefined
      const stream = this.stream
      if (stream === undefined) return
      if (this.paused) this.lastActivity = this.time.now()
      if (this.time.now() - this.lastActivity < stallMs) return this.watchStall()
      this.stalls.inc()
      this.drop(stream, new TwitterStreamError('network', `stream stalled: no data or keep-alive for ${stallMs} ms`))
    })
  }

  private retryDelay(cause: unknown, retry: number): number | undefined {
    const s = this.settings
    if (!(cause instanceof TwitterStreamError) || cause.kind === 'network')
      return Math.min(s.networkMaxDelayMs, s.networkDelayStepMs * (retry + 1))
    if (cause.kind === 'http') return undefined
    if (cause.resetAtMs !== undefined) return Math.max(s.networkDelayStepMs, cause.resetAtMs - this.time.now())
    return backoffDelay(retry, { initialDelayMs: s.rateLimitDelayMs, maxDelayMs: s.rateLimitDelayMs * 16 })
  }

  /** The response body the library reads (protected in its types). */
  private body(): Readable | undefined {
    return (this.stream as unknown as { res?: Readable } | undefined)?.res
  }
}
