import type { SocketSinkSettings } from './options.js'
import { ReconnectingConnection } from './connection.js'
import type { Socket } from 'node:net'
import type { ConnectorError } from '../../errors.js'
import type { SinkWriter } from '../../runtime/sink.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'

interface Waiter {
  resolve(): void
  reject(error: Error): void
}

/**
 * The writer of {@link SocketSink}: one connection, records not yet handed to the OS kept for a resend,
 * and promises for `ready()` and `flush()`.
 *
 * @example
 * const writer = new SocketSink<string>('127.0.0.1', 9999).createWriter(context)
 * writer.write('hello', undefined)
 * await writer.close()
 */
export class SocketSinkWriter<T> implements SinkWriter<T> {
  /** Written to the socket, not yet confirmed handed to the OS: sent again after a reconnection. */
  private unconfirmed: Array<string | Buffer> = []
  /** How many of `unconfirmed`, from its start, were confirmed since (dropped in batches, not one by one). */
  private confirmed = 0
  /** Written while there was no connection, oldest first. */
  private waiting: Array<string | Buffer> = []
  private draining: Promise<void> | undefined
  private connecting: Promise<void> | undefined
  private connectWaiters: Waiter[] = []
  private flushWaiters: Waiter[] = []
  private readonly connection: ReconnectingConnection
  private failure: ConnectorError | undefined
  private closing: Promise<void> | undefined

  constructor(
    private readonly sink: SocketSinkSettings<T>,
    processingTime: ProcessingTimeService,
  ) {
    this.connection = new ReconnectingConnection(
      `socketSink ${sink.host}:${sink.port}`,
      sink.host,
      sink.port,
      sink.retry,
      processingTime,
      {
        // Read and discard what the server sends: reading is how a closed connection ('end') is noticed.
        created: (socket) => void socket.resume(),
        opened: () => {
          const waiting = this.waiting
          this.waiting = []
          for (const chunk of waiting) this.send(chunk)
          this.connecting = undefined
          settle(this.connectWaiters.splice(0))
        },
        closed: () => {
          // Resend what this connection may not have delivered, ahead of what was written since.
          this.waiting = this.unconfirmed.slice(this.confirmed).concat(this.waiting)
          this.unconfirmed = []
          this.confirmed = 0
          return true
        },
        failed: (error) => {
          this.failure = error
          settle(this.connectWaiters.splice(0), error)
          settle(this.flushWaiters.splice(0), error)
        },
      },
    )
    this.connection.open()
  }

  /** How many connections were established. */
  get connections(): number {
    return this.connection.connections
  }

  /** Whether a connection is open now. */
  get isConnected(): boolean {
    return this.connection.connected
  }

  write(value: T, _timestamp?: number): void {
    if (this.failure !== undefined) throw this.failure
    const chunk = this.sink.serializer(value)
    if (this.connection.connected) this.send(chunk)
    else this.waiting.push(chunk)
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (!this.connection.connected) {
      this.connecting ??= new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }))
      return this.connecting
    }
    return this.draining
  }

  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.confirmed === this.unconfirmed.length && this.waiting.length === 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => this.flushWaiters.push({ resolve, reject }))
  }

  close(): Promise<void> {
    this.closing ??= this.finish()
    return this.closing
  }

  private async finish(): Promise<void> {
    try {
      await this.flush()
    } finally {
      await this.connection.close(true)
    }
  }

  private send(chunk: string | Buffer): void {
    const socket = this.connection.socket!
    this.unconfirmed.push(chunk)
    const accepted = socket.write(chunk, (error) => {
      // Callbacks of a dropped socket report errors; its chunks were moved to `waiting` already.
      if (error !== undefined && error !== null) return
      if (socket !== this.connection.socket) return
      if (++this.confirmed === this.unconfirmed.length) {
        this.unconfirmed = []
        this.confirmed = 0
        if (this.waiting.length === 0) settle(this.flushWaiters.splice(0))
      } else if (this.confirmed >= 1024 && this.confirmed * 2 >= this.unconfirmed.length) {
        this.unconfirmed = this.unconfirmed.slice(this.confirmed)
        this.confirmed = 0
      }
    })
    if (!accepted) this.awaitDrain(socket)
  }

  private awaitDrain(socket: Socket): void {
    this.draining ??= new Promise<void>((resolve) => {
      const done = (): void => {
        socket.off('drain', done)
        socket.off('close', done)
        this.draining = undefined
        resolve()
      }
      // 'close' too: a dropped socket never drains, and ready() then waits for the reconnection.
      socket.on('drain', done)
      socket.on('close', done)
    })
  }
}

function settle(waiters: Waiter[], error?: Error): void {
  for (const waiter of waiters) {
    if (error === undefined) waiter.resolve()
    else waiter.reject(error)
  }
}
