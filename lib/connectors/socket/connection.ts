import { type Socket, connect } from 'node:net'
import type { ConnectorError } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { ReconnectLoop } from '../base/reconnect-loop.js'
import type { RetrySettings } from '../base/retry-options.js'

/**
 * One TCP connection that comes back, through the connectors' {@link ReconnectLoop}: opens with a
 * connect timeout, and after a failed attempt or a dropped connection tries again with the backoff, at
 * most `maxRetries` times in a row (the count starts afresh after each successful connection). When
 * retries run out it reports a ConnectorError 'ERR_CONNECT' naming the endpoint and the attempts.
 * Shared by the socket source and sink.
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
  private readonly loop: ReconnectLoop<Socket>
  private closed = false

  constructor(
    endpoint: string,
    private readonly host: string,
    private readonly port: number,
    private readonly retry: RetrySettings,
    clock: ProcessingTimeService,
    private readonly events: {
      /** A socket was created (before it connects): attach data handlers here. */
      created?(socket: Socket): void
      opened(socket: Socket): void
      /** The socket closed; return false to stop (no retry). */
      closed(wasConnected: boolean): boolean
      failed(error: ConnectorError): void
    },
  ) {
    this.loop = new ReconnectLoop<Socket>(retry, clock, endpoint, () => this.attempt(), {
      connected: (socket) => events.opened(socket),
      failed: (error) => events.failed(error),
      discard: (socket) => void socket.destroy(),
    })
  }

  /** Connections established so far. */
  get connections(): number {
    return this.loop.connections
  }

  open(): void {
    this.loop.start()
  }

  /** Stops for good: no more retries; the socket is ended gracefully (waiting for it to close) or destroyed. */
  async close(graceful = false): Promise<void> {
    this.closed = true
    this.loop.close()
    const socket = this.socket
    this.socket = undefined
    if (socket === undefined || socket.destroyed) return
    if (!graceful) return void socket.destroy()
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve())
      socket.end()
    })
  }

  /** One connection attempt: resolves when the socket connects; a later close reports a loss to the loop. */
  private attempt(): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port })
      this.socket = socket
      this.connected = false
      let lastError: Error | undefined
      this.events.created?.(socket)
      socket.setTimeout(this.retry.connectTimeoutMs, () => {
        if (!this.connected)
          socket.destroy(new Error(`connection not established within ${this.retry.connectTimeoutMs} ms`))
      })
      socket.once('connect', () => {
        socket.setTimeout(0)
        this.connected = true
        resolve(socket)
      })
      socket.on('error', (error) => {
        lastError = error
      })
      socket.once('close', () => {
        if (socket !== this.socket || this.closed) return
        const wasConnected = this.connected
        this.socket = undefined
        this.connected = false
        if (!this.events.closed(wasConnected)) return this.loop.close()
        if (wasConnected) this.loop.lost(lastError)
        else reject(lastError ?? new Error('connection closed'))
      })
    })
  }
}
