import type { IFrame, StompHeaders } from '@stomp/stompjs'
import type { SinkWriter } from '../../runtime/sink.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { ConfirmWindow } from '../base/confirm-window.js'
import { ReconnectLoop } from '../base/reconnect-loop.js'
import type { ActiveMQSinkSettings } from './options.js'
import { closeStomp, openStomp, type StompSession } from './connection.js'

const NUDGE_MS = 4

/** A SEND as the writer keeps it until its RECEIPT arrives. */
interface Outgoing {
  readonly body: string | Uint8Array
  readonly headers: StompHeaders
}

interface Waiter {
  resolve(): void
  reject(error: Error): void
}

/**
 * The writer of {@link ActiveMQSink}: one STOMP connection, the unreceipted messages in a
 * {@link ConfirmWindow} (receipt ids are their sequence numbers on the connection).
 *
 * @example
 * const writer = new ActiveMQSink<string>({ destination: '/queue/out' }).createWriter(context)
 * writer.write('hello', undefined)
 * await writer.flush()
 */
export class ActiveMQSinkWriter<T> implements SinkWriter<T> {
  private readonly window = new ConfirmWindow<Outgoing>()
  private readonly loop: ReconnectLoop<StompSession>
  private readonly persistent: StompHeaders
  private readonly roomAt: number
  private current: StompSession | undefined
  private failure: Error | undefined
  private connecting: Promise<void> | undefined
  private connectWaiters: Waiter[] = []
  /** Messages sent (resends after a reconnection included). */
  sent = 0

  constructor(
    private readonly settings: ActiveMQSinkSettings<T>,
    processingTime: ProcessingTimeService,
  ) {
    this.persistent = settings.persistent ? { persistent: 'true' } : {}
    this.roomAt = Math.max(1, settings.maxInFlight >> 1)
    this.loop = new ReconnectLoop<StompSession>(settings.retry, processingTime, settings.endpoint, () => this.open(), {
      connected: (session) => this.connected(session),
      failed: (error) => this.fail(error),
      discard: (session) => void closeStomp(session),
    })
    this.loop.start()
  }

  /** Connections made so far (reconnections included). */
  get connections(): number {
    return this.loop.connections
  }

  /** Messages written and not yet receipted by the broker. */
  get unconfirmed(): number {
    return this.window.size
  }

  write(value: T, _timestamp?: number): void {
    if (this.failure !== undefined) throw this.failure
    const { settings } = this
    const headers =
      settings.headers === undefined ? this.persistent : { ...settings.headers(value), ...this.persistent }
    const message: Outgoing = { body: settings.serializer(value), headers }
    const seq = this.window.add(message)
    if (this.current !== undefined) this.send(this.current, message, seq)
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.current === undefined) {
      this.connecting ??= new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }))
      return this.connecting
    }
    if (this.window.size >= this.settings.maxInFlight) return this.window.whenBelow(this.roomAt)
    return undefined
  }

  /** Resolves when the broker has receipted every message written so far. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.window.size === 0) return Promise.resolve()
    // While nothing else is sent, an EOL heart-beat every few ms carries the TCP acknowledgement the
    // broker's Nagle algorithm waits for before it sends the last RECEIPTs (else up to a delayed-ACK
    // timeout, 40 ms on Linux, per barrier).
    const nudge = setInterval(() => {
      try {
        this.current?.client.webSocket?.send('\n')
      } catch {
        // the connection is closing
      }
    }, NUDGE_MS)
    const done = this.window.whenEmpty()
    done.then(
      () => clearInterval(nudge),
      () => clearInterval(nudge),
    )
    return done
  }

  /** On the barrier: every message before it is receipted (at-least-once); nothing to keep in the checkpoint. */
  async snapshotState(): Promise<unknown[]> {
    await this.flush()
    return []
  }

  /** Disconnects; a graceful end flushed before (the runtime calls `flush(true)` first). */
  async close(): Promise<void> {
    this.loop.close()
    const current = this.current
    this.current = undefined
    if (current !== undefined) await closeStomp(current)
  }

  private async open(): Promise<StompSession> {
    const session = await openStomp(this.settings)
    session.onLost = (cause) => this.lost(session, cause)
    // Receipt ids are the messages' sequence numbers on this connection.
    session.client.onUnhandledReceipt = (frame: IFrame) => {
      if (!session.lost) this.window.confirm(Number(frame.headers['receipt-id']), false)
    }
    return session
  }

  private connected(session: StompSession): void {
    if (session.lost) return this.loop.lost(new Error('connection closed while it was set up'))
    this.current = session
    // Everything unreceipted goes out again, in order (numbered 1, 2, … on this connection), before
    // anything written from now on.
    const resend = this.window.rewind()
    for (let i = 0; i < resend.length; i++) this.send(session, resend[i]!, i + 1)
    this.connecting = undefined
    for (const w of this.connectWaiters.splice(0)) w.resolve()
  }

  private send(session: StompSession, message: Outgoing, seq: number): void {
    const receipt = String(seq)
    const { body } = message
    try {
      session.client.publish(
        typeof body === 'string'
          ? { destination: this.settings.destination, headers: { ...message.headers, receipt }, body }
          : { destination: this.settings.destination, headers: { ...message.headers, receipt }, binaryBody: body },
      )
    } catch {
      return // the connection is closing: the message is still unreceipted and goes out on the next one
    }
    this.sent++
  }

  private lost(session: StompSession, cause: Error): void {
    if (this.current !== session) return
    this.current = undefined
    this.loop.lost(cause)
  }

  private fail(error: Error): void {
    this.failure ??= error
    this.window.fail(this.failure)
    this.connecting = undefined
    for (const w of this.connectWaiters.splice(0)) w.reject(this.failure)
  }
}
