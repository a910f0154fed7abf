import { type Socket, connect } from 'node:net'
import { backoffDelay } from '../../util/backoff.js'
import { ConnectorError, messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import type { RetrySettings } from '../base/reconnect-loop.js'

/**
 * One TCP connection that comes back: opens with a connect timeout, and after a failed attempt or a
 * dropped connection tries again with exponential backoff, at most `maxRetries` times in a row (the
 * count starts afresh after each successful connection). When retries run out it reports a
 * ConnectorError 'ERR_CONNECT' naming the endpoint and the attempts. Shared by the socket source and sink.
 *
 * @example
 * const conn = new ReconnectingConnection('socketSink 127.0.0.1:9000', '127.0.0.1', 9000, retry, clock, {
 *   opened: (socket) => socket.write('hello\n'),
 *   closed: (wasConnected) => true, // try again
 *   failed: (error) => console.error(error.message),
 * })
 * conn.open()
 */
export class ReconnectingConnection {
  socket: Socket | undefined
  connected = false
  /** Connections established so far. */
  connections = 0
  private attempts = 0
  private retriesLeft: number
  private retriesUsed = 0
  private lastError: Error | undefined
  private cancelRetry: (() => void) | undefined
  private closed = false

  constructor(
    private readonly endpoint: string,
    private readonly host: string,
    private readonly port: number,
    private readonly retry: RetrySettings,
    private readonly clock: ProcessingTimeService,
    private readonly events: {
      /** A socket was created (before it connects): attach data handlers here. */
      created?(socket: Socket): void
      opened(socket: Socket): void
      /** The socket closed; return false to stop (no retry). */
      closed(wasConnected: boolean): boolean
      failed(error: ConnectorError): void
    },
  ) {
    this.retriesLeft = retry.maxRetries
  }

  open(): void {
    if (this.closed) return
    this.cancelRetry = undefined
    this.attempts++
    const socket = connect({ host: this.host, port: this.port })
    this.socket = socket
    this.connected = false
    this.events.created?.(socket)
    socket.setTimeout(this.retry.connectTimeoutMs, () => {
      if (!this.connected)
        socket.destroy(new Error(`connection not established within ${this.retry.connectTimeoutMs} ms`))
    })
    socket.once('connect', () => {
      socket.setTimeout(0)
      this.connected = true
      this.connections++
      this.attempts = 0
      this.retriesUsed = 0
      this.retriesLeft = this.retry.maxRetries
      this.events.opened(socket)
    })
    socket.on('error', (error) => {
      this.lastError = error
    })
    socket.once('close', () => this.onClose(socket))
  }

  /** Stops for good: no more retries; the socket is ended gracefully (waiting for it to close) or destroyed. */
  async close(graceful = false): Promise<void> {
    this.closed = true
    this.cancelRetry?.()
    const socket = this.socket
    this.socket = undefined
    if (socket === undefined || socket.destroyed) return
    if (!graceful) return void socket.destroy()
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve())
      socket.end()
    })
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket || this.closed) return
    const wasConnected = this.connected
    this.socket = undefined
    this.connected = false
    if (!this.events.closed(wasConnected)) return
    if (this.retriesLeft === 0) {
      const reason = this.lastError === undefined ? 'connection closed' : messageOf(this.lastError)
      const attempts = Math.max(1, this.attempts)
      this.events.failed(
        new ConnectorError(
          'ERR_CONNECT',
          `${this.endpoint}: no connection after ${attempts} attempt${attempts === 1 ? '' : 's'} (maxRetries ${this.retry.maxRetries}): ${reason}`,
          { cause: this.lastError, retriable: true },
        ),
      )
      return
    }
    this.retriesLeft--
    const delay = backoffDelay(this.retriesUsed++, this.retry)
    this.cancelRetry = this.clock.scheduleAt(this.clock.now() + delay, () => this.open())
  }
}
