import { backoffDelay } from '../../actors/backoff.js'
import { ConfigError, ConnectorError, messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'

/**
 * How a connector connects again. Shared by the RabbitMQ, ActiveMQ, MQTT and Redis connectors and
 * the socket source and sink: nothing in it knows a protocol.
 */
export interface ConnectionRetryOptions {
  /**
   * Attempts after a failed connection attempt or a lost connection before giving up with
   * ConnectorError 'ERR_CONNECT'; counted afresh after each successful connection. 0 = never,
   * Infinity = forever. Default 5.
   */
  maxRetries?: number
  /** Delay before the first retry, doubled for each further one; default 200 ms (socket, MQTT and Redis: 500 ms). */
  retryDelayMs?: number
  /** Ceiling of the retry delay; default 10,000 ms. */
  maxRetryDelayMs?: number
  /** A connection attempt that has not succeeded after this long fails; default 10,000 ms. */
  connectTimeoutMs?: number
}

/** Retry settings after validation, defaults applied. */
export interface RetrySettings {
  readonly maxRetries: number
  readonly retryDelayMs: number
  readonly maxRetryDelayMs: number
  readonly connectTimeoutMs: number
}

/**
 * Validates the retry options of `owner` ('rabbitmqSource', 'socketSink', …) and applies defaults
 * (`defaultRetryDelayMs` for the first retry's delay).
 *
 * @example
 * retrySettings('rabbitmqSink', { maxRetries: 2 }) // { maxRetries: 2, retryDelayMs: 200, … }
 */
export function retrySettings(
  owner: string,
  options: ConnectionRetryOptions,
  defaultRetryDelayMs = 200,
): RetrySettings {
  const {
    maxRetries = 5,
    retryDelayMs = defaultRetryDelayMs,
    maxRetryDelayMs = 10_000,
    connectTimeoutMs = 10_000,
  } = options
  if (
    typeof maxRetries !== 'number' ||
    !(maxRetries === Infinity || (Number.isSafeInteger(maxRetries) && maxRetries >= 0))
  ) {
    throw new ConfigError(`${owner}.maxRetries`, maxRetries, 'a whole number ≥ 0, or Infinity')
  }
  if (typeof retryDelayMs !== 'number' || !Number.isFinite(retryDelayMs) || retryDelayMs < 0)
    throw new ConfigError(`${owner}.retryDelayMs`, retryDelayMs, 'a finite number ≥ 0')
  if (typeof maxRetryDelayMs !== 'number' || !Number.isFinite(maxRetryDelayMs) || maxRetryDelayMs < retryDelayMs) {
    throw new ConfigError(
      `${owner}.maxRetryDelayMs`,
      maxRetryDelayMs,
      `a finite number ≥ retryDelayMs (${retryDelayMs})`,
    )
  }
  if (typeof connectTimeoutMs !== 'number' || !Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new ConfigError(`${owner}.connectTimeoutMs`, connectTimeoutMs, 'a finite number > 0')
  }
  return { maxRetries, retryDelayMs, maxRetryDelayMs, connectTimeoutMs }
}

/** What a {@link ReconnectLoop} reports to its owner. */
export interface ReconnectHandlers<C> {
  /** A connection is up (the first one, or one after a loss). */
  connected(connection: C): void
  /** The retries are used up; the loop stops. */
  failed(error: ConnectorError): void
  /** A connection that was made after `close()`; release it. */
  discard(connection: C): void
}

/**
 * Connects, and connects again after a failed attempt or a lost connection, with a doubling delay
 * (`backoffDelay`) scheduled on the subtask's processing-time service. Every connection gets
 * `maxRetries` retries, counted afresh after each success; when they are used up the owner gets one
 * ConnectorError 'ERR_CONNECT' naming the endpoint, the attempts and the last cause. An attempt that
 * rejects with a ConnectorError marked not retriable ends the loop with that error at once.
 *
 * @example
 * const loop = new ReconnectLoop(settings, processingTime, 'rabbitmqSource amqp://127.0.0.1:5672',
 *   () => amqp.connect(url), { connected: (c) => use(c), failed: (e) => fail(e), discard: (c) => void c.close() })
 * loop.start()
 */
export class ReconnectLoop<C> {
  private retriesLeft: number
  private retriesUsed = 0
  /** Attempts since the last successful connection, for the error message. */
  private attempts = 0
  private lastError: unknown
  private cancelRetry: (() => void) | undefined
  private closed = false
  /** How many connections were made. */
  connections = 0

  constructor(
    private readonly settings: RetrySettings,
    private readonly processingTime: ProcessingTimeService,
    readonly endpoint: string,
    private readonly attempt: () => Promise<C>,
    private readonly handlers: ReconnectHandlers<C>,
  ) {
    this.retriesLeft = settings.maxRetries
  }

  start(): void {
    this.run()
  }

  /** The open connection was lost (`cause` says why): connect again, or give up when retries are used up. */
  lost(cause?: unknown): void {
    if (this.closed) return
    if (cause !== undefined) this.lastError = cause
    this.retryOrFail()
  }

  close(): void {
    this.closed = true
    this.cancelRetry?.()
    this.cancelRetry = undefined
  }

  private run(): void {
    this.cancelRetry = undefined
    if (this.closed) return
    this.attempts++
    this.attempt().then(
      (connection) => {
        if (this.closed) return this.handlers.discard(connection)
        this.connections++
        this.attempts = 0
        this.retriesUsed = 0
        this.retriesLeft = this.settings.maxRetries
        this.handlers.connected(connection)
      },
      (error: unknown) => {
        if (this.closed) return
        // A ConnectorError that is not retriable (a missing queue, bad credentials) ends the loop at once.
        if (error instanceof ConnectorError && !error.retriable) {
          this.closed = true
          return this.handlers.failed(error)
        }
        this.lastError = error
        this.retryOrFail()
      },
    )
  }

  private retryOrFail(): void {
    if (this.retriesLeft === 0) {
      const attempts = Math.max(1, this.attempts)
      const reason = this.lastError === undefined ? 'connection closed' : messageOf(this.lastError)
      this.closed = true
      this.handlers.failed(
        new ConnectorError(
          'ERR_CONNECT',
          `${this.endpoint}: no connection after ${attempts} attempt${attempts === 1 ? '' : 's'} (maxRetries ${this.settings.maxRetries}): ${reason}`,
          { cause: this.lastError, retriable: true },
        ),
      )
      return
    }
    this.retriesLeft--
    const delay = backoffDelay(this.retriesUsed++, {
      minMs: this.settings.retryDelayMs,
      maxMs: this.settings.maxRetryDelayMs,
    })
    this.cancelRetry = this.processingTime.scheduleAt(this.processingTime.now() + delay, () => this.run())
  }
}
