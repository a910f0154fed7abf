import { ConnectorError, messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { backoffDelay } from '../../util/backoff.js'
import type { RetrySettings } from './retry-options.js'

/** What a {@link ReconnectLoop} reports to its owner. */
export interface ReconnectHandlers<C> {
  /** A connection is up (the first one, or one after a loss). */
  connected(connection: C): void
  /** The retries are used up; the loop stops. */
  failed(error: ConnectorError): void
  /** A connection that was made after `close()`; release it. */
  discard(connection: C): void
  /**
   * The delay before retry number `retry` (0 for the first since the last connection) after `cause`,
   * for a service that says how to back off per kind of failure (X's streams: linear for network
   * errors, exponential for HTTP errors, until the rate-limit reset for a 429). Undefined (or absent):
   * `backoffDelay` with the loop's settings.
   */
  retryDelay?(cause: unknown, retry: number): number | undefined
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
    private readonly random: () => number = Math.random,
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
    const retry = this.retriesUsed++
    const delay = this.handlers.retryDelay?.(this.lastError, retry) ?? backoffDelay(retry, this.settings, this.random)
    this.cancelRetry = this.processingTime.scheduleAt(this.processingTime.now() + delay, () => this.run())
  }
}
