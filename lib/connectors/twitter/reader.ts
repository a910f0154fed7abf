import type { Logger } from '../../logging.js'
import { Availability } from '../../runtime/availability.js'
import { MetricGroup, type Counter } from '../../runtime/metric-group.js'
import type { DeadLetter } from '../../runtime/output-tag.js'
import type { InputStatus, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { Fifo } from '../../util/fifo.js'
import type { ConnectorError } from '../../errors.js'
import { TwitterStreamError, redact } from './client.js'
import { TwitterConnection } from './connection.js'
import type { TweetRecord, TwitterSourceSettings, TwitterSourceState, TwitterSourceStateV2 } from './options.js'
import { isTweetId } from './id-ring.js'
import { RecentIds } from './recent-ids.js'

/** Tweets one poll emits at most: a poll costs the runtime about as much as a tweet. */
const POLL_TWEETS = 64

/** The `matchingRules` of tweets X sent without any (the sample stream): one frozen array for all. */
const NO_RULES: readonly never[] = Object.freeze([])

/**
 * Reads one X stream into a bounded buffer that `pollNext` empties, up to {@link POLL_TWEETS} tweets per
 * poll (counted once per poll). A tweet whose
 * id was emitted in the recent window (a backfill sends some again) is skipped and counted; the ids
 * of that window and the time from which tweets may be missing go into each checkpoint. A line that
 * is not JSON, or JSON that is not a tweet, goes to the dead-letter output with its reason; X's
 * operational-disconnect notice makes it reconnect at once (with backfill when configured).
 *
 * Threading: every method runs on the subtask's mailbox; the connection's callbacks only push and signal.
 *
 * @example
 * const reader = twitterSource({ bearerToken, stream: 'sample' }).createReader(context)
 * reader.start()
 */
export class TwitterReader implements SourceReader<TweetRecord, TwitterSourceState> {
  /** Tweets received and not yet emitted, and beside them (same order) when each came: no object per tweet. */
  private readonly buffer = new Fifo<TweetRecord>()
  private readonly arrivals = new Fifo<number>()
  private readonly available = new Availability()
  private readonly recent: RecentIds
  private readonly connection: TwitterConnection
  private readonly metrics: MetricGroup
  private readonly tweets: Counter
  private readonly duplicates: Counter
  private readonly malformed: Counter
  private readonly disconnects: Counter
  private readonly log: Logger | undefined
  private failure: ConnectorError | undefined
  private lastCreatedAt: string | undefined
  private lastEventTime: number | undefined

  constructor(
    private readonly settings: TwitterSourceSettings,
    private readonly context: SourceReaderContext,
    restored: readonly TwitterSourceState[] = [],
  ) {
    this.log = context.logger
    this.metrics = context.metrics ?? new MetricGroup('twitter')
    this.tweets = this.metrics.counter('tweets')
    this.duplicates = this.metrics.counter('duplicatesSkipped')
    this.malformed = this.metrics.counter('malformedMessages')
    this.disconnects = this.metrics.counter('operationalDisconnects')
    this.metrics.gauge('bufferedTweets', () => this.buffer.size)
    this.metrics.gauge('rememberedIds', () => this.recent.size)
    const state = restored.find((s) => s?.v === 1 || s?.v === 2)
    this.recent = new RecentIds(settings.dedupWindowMs, state?.segments, state?.v === 1 ? 'decimal' : 'delta')
    this.connection = new TwitterConnection(
      settings,
      context.processingTime,
      this.log,
      this.metrics,
      {
        message: (payload, at) => this.received(payload, at),
        malformed: (error) => this.deadLetter(`malformed stream line: ${error.message}`, undefined),
        failed: (error) => {
          this.failure = error
          this.available.signal()
        },
      },
      state?.at,
    )
  }

  /** The reader's counters (tweets, duplicatesSkipped, malformedMessages, stalls, backfills, …). */
  get metricGroup(): MetricGroup {
    return this.metrics
  }

  start(): void {
    this.connection.start()
  }

  pollNext(output: SourceOutput<TweetRecord>): InputStatus {
    if (this.failure !== undefined) throw this.failure
    const { buffer, arrivals, recent } = this
    let emitted = 0
    let duplicates = 0
    for (let record = buffer.shift(); record !== undefined; record = buffer.shift()) {
      const { tweet } = record
      // the arrival stands for the emission: a few ms earlier at most, well inside the window's spare minute
      if (!recent.add(tweet.id, arrivals.shift()!)) duplicates++
      else {
        output.collect(record, this.eventTime(tweet.created_at))
        if (++emitted === POLL_TWEETS) break
      }
    }
    if (emitted > 0) this.tweets.inc(emitted)
    if (duplicates > 0) this.duplicates.inc(duplicates)
    if (buffer.size <= this.settings.maxBufferedTweets / 2) this.connection.resume()
    return buffer.size > 0 ? 'more' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  /**
   * The ids of the recent window, and the time from which tweets may be missing after a restore:
   * the arrival of the oldest tweet still buffered, or now.
   */
  snapshotState(): TwitterSourceStateV2[] {
    const now = this.context.processingTime.now()
    const oldest = this.arrivals.peek() ?? now
    return [{ v: 2, at: Math.min(oldest, now), segments: this.recent.snapshot(now) }]
  }

  close(): void {
    this.connection.close()
  }

  /** `created_at` in epoch ms (tweets of one burst share it: the last one is remembered), or undefined. */
  private eventTime(createdAt: string | undefined): number | undefined {
    if (createdAt === undefined) return undefined
    if (createdAt !== this.lastCreatedAt) {
      this.lastCreatedAt = createdAt
      const time = Date.parse(createdAt)
      this.lastEventTime = Number.isNaN(time) ? undefined : time
    }
    return this.lastEventTime
  }

  private received(payload: unknown, at: number): void {
    const message = payload as {
      data?: { id?: unknown; text?: unknown }
      errors?: unknown
      includes?: unknown
      matching_rules?: unknown
    }
    const data = message?.data
    if (data !== null && typeof data === 'object' && typeof data.id === 'string' && typeof data.text === 'string') {
      if (!isTweetId(data.id))
        return this.deadLetter("stream message is not a tweet (data.id is not X's decimal id)", payload)
      const record: TweetRecord = {
        tweet: data as TweetRecord['tweet'],
        includes: (message.includes ?? undefined) as TweetRecord['includes'],
        matchingRules: Array.isArray(message.matching_rules) ? message.matching_rules : NO_RULES,
        errors: Array.isArray(message.errors) ? message.errors : undefined,
      }
      this.buffer.push(record)
      this.arrivals.push(at)
      if (this.buffer.size >= this.settings.maxBufferedTweets) this.connection.pause()
      this.available.signal()
      return
    }
    if (message !== null && typeof message === 'object' && data === undefined && Array.isArray(message.errors)) {
      return this.notice(message.errors)
    }
    this.deadLetter('stream message is not a tweet (no data.id and data.text)', payload)
  }

  /** X's message on the stream without data: an operational disconnect (reconnect now), or another notice. */
  private notice(errors: unknown[]): void {
    const first = (errors[0] ?? {}) as { title?: unknown; detail?: unknown; disconnect_type?: unknown }
    const text = redact(`${String(first.title ?? 'error')}: ${String(first.detail ?? '')}`, this.settings.bearerToken)
    if (first.title === 'operational-disconnect' || first.disconnect_type !== undefined) {
      this.disconnects.inc()
      this.log?.warn('twitter operational disconnect', { reason: text })
      this.connection.reconnect(new TwitterStreamError('network', `X disconnected the stream: ${text}`))
      return
    }
    // X closes the connection after such a notice (ConnectionException, …): the loss reconnects
    this.log?.warn('twitter stream notice', { reason: text })
  }

  private deadLetter(reason: string, record: unknown): void {
    this.malformed.inc()
    const letter: DeadLetter = {
      operator: 'twitter',
      subtask: this.context.subtask,
      reason: redact(reason, this.settings.bearerToken),
      record,
      at: this.context.processingTime.now(),
    }
    if (this.context.deadLetter !== undefined) this.context.deadLetter(letter)
    else this.log?.warn('dead letter', { operator: 'twitter', reason: letter.reason })
  }
}
