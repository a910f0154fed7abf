import { type Counter, MetricGroup } from '../../runtime/metric-group.js'
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import { Deferred } from '../../util/deferred.js'
import { ConfirmWindow } from './confirm-window.js'
import { ReconnectLoop } from './reconnect-loop.js'
import type { RetrySettings } from './retry-options.js'

/** What a {@link ConfirmingWriter} needs of the connector's settings. */
export interface ConfirmingWriterSettings {
  /** The endpoint as messages name it, without credentials. */
  readonly endpoint: string
  /** Messages written and not yet confirmed before `ready()` asks the runtime to wait. */
  readonly maxInFlight: number
  readonly retry: RetrySettings
}

/**
 * The part of a sink writer on a broker that confirms each message (RabbitMQ publisher confirms, STOMP
 * receipts) that is not the broker's own: every message written waits in a {@link ConfirmWindow} until
 * confirmed; one connection at a time through a {@link ReconnectLoop}, and a new connection first sends
 * every unconfirmed message again, in order (at-least-once: a message may then arrive twice); `ready()`
 * holds the runtime back while connecting and while `maxInFlight` messages are unconfirmed (it lets it
 * go on at half of that); a barrier (`snapshotState`) waits until every message before it is confirmed;
 * the first failure fails every later call.
 *
 * A connector writes what is its own: `open` (connect; confirmations go to `window.confirm`),
 * `closeSession`, `isLost`, `toMessage` (one value as the broker takes it) and `send` (one message with
 * its sequence number on the connection). A connection lost under it is reported with
 * `lost(session, cause)`; a broker's refusal with `fail(error)`.
 *
 * Threading: everything runs on the event loop; `write` is synchronous. Bounds: at most `maxInFlight`
 * plus the records written after `ready()` last answered undefined (the runtime's batch) are unconfirmed.
 *
 * Metrics (the job's, labelled with the connector): `sent` (resends after a reconnection included), and
 * the gauges `unconfirmed` and `connections`.
 *
 * @example
 * class TubeWriter extends ConfirmingWriter<string, Buffer, TubeClient> {
 *   protected async open() { return TubeClient.connect(url) }
 *   protected toMessage(value: string) { return Buffer.from(value) }
 *   protected send(c: TubeClient, body: Buffer, seq: number) {
 *     c.put('out', body).then(() => this.window.confirm(seq, false), (e) => this.fail(e)); return true }
 *   protected isLost(c: TubeClient) { return c.closed }
 *   protected closeSession(c: TubeClient) { c.close() }
 * }
 */
export abstract class ConfirmingWriter<T, M, S> implements SinkWriter<T> {
  protected readonly window = new ConfirmWindow<M>()
  private readonly loop: ReconnectLoop<S>
  private readonly roomAt: number
  /** The connection messages go out on. */
  protected current: S | undefined
  protected failure: Error | undefined
  private connecting: Deferred | undefined
  /** The writer's counters (the job's metrics): `sent`, gauges, and the connector's own. */
  readonly metrics: MetricGroup
  private readonly sent: Counter

  constructor(
    /** The connector's name, the label of its metrics ('rabbitmq', 'activemq'). */
    connector: string,
    private readonly base: ConfirmingWriterSettings,
    context: SinkWriterContext,
  ) {
    this.roomAt = Math.max(1, base.maxInFlight >> 1)
    this.metrics = context.metrics ?? new MetricGroup(connector)
    this.sent = this.metrics.counter('sent')
    this.metrics.gauge('unconfirmed', () => this.window.size)
    this.metrics.gauge('connections', () => this.loop.connections)
    this.loop = new ReconnectLoop<S>(base.retry, context.processingTime, base.endpoint, () => this.open(), {
      connected: (session) => this.connected(session),
      failed: (error) => this.fail(error),
      discard: (session) => void this.closeSession(session),
    })
  }

  /** Connects; confirmations go to `window.confirm`. Rejects when it cannot (the loop retries). */
  protected abstract open(): Promise<S>
  /** Closes a session (its connection); never rejects. */
  protected abstract closeSession(session: S): Promise<void> | void
  /** Whether the session's connection is gone. */
  protected abstract isLost(session: S): boolean
  /** One value as the broker takes it (a bad value throws here, before it counts). */
  protected abstract toMessage(value: T): M
  /** Sends `message`, numbered `seq` on this connection; false when the connection is closing (it goes out again on the next). */
  protected abstract send(session: S, message: M, seq: number): boolean

  /** A pause besides the window's: the client's write buffer is full, the broker blocks (undefined: none). */
  protected paused(): Promise<void> | undefined {
    return undefined
  }

  /** Starts connecting; the subclass calls it last in its constructor. */
  protected connect(): void {
    this.loop.start()
  }

  /** Connections made so far (reconnections included). */
  get connections(): number {
    return this.loop.connections
  }

  /** Messages written and not yet confirmed by the broker. */
  get unconfirmed(): number {
    return this.window.size
  }

  write(value: T, _timestamp?: number): void {
    if (this.failure !== undefined) throw this.failure
    this.publish(this.toMessage(value))
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.current === undefined) {
      this.connecting ??= new Deferred()
      return this.connecting.promise
    }
    if (this.window.size >= this.base.maxInFlight) return this.window.whenBelow(this.roomAt)
    return this.paused()
  }

  /** Resolves when the broker has confirmed every message written so far. */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return this.window.whenEmpty()
  }

  /** On the barrier: every message before it is confirmed (at-least-once); nothing to keep in the checkpoint. */
  async snapshotState(): Promise<unknown[]> {
    await this.flush()
    return []
  }

  /** Closes the connection; a graceful end flushed before (the runtime calls `flush(true)` first). */
  async close(): Promise<void> {
    this.loop.close()
    const current = this.current
    this.current = undefined
    if (current !== undefined) await this.closeSession(current)
  }

  /** Adds a message to the window and sends it now if connected (else after the next connection). */
  protected publish(message: M): void {
    const seq = this.window.add(message)
    if (this.current !== undefined) this.transmit(this.current, message, seq)
  }

  /** The connection of `session` is gone: connect again; its unconfirmed messages go out on the next one. */
  protected lost(session: S, cause: Error): void {
    if (this.current !== session) return
    this.current = undefined
    this.released()
    this.loop.lost(cause)
  }

  /** Fails the writer: `write`, `ready`, `flush` and every waiter get `error` (the first one). */
  protected fail(error: Error): void {
    this.failure ??= error
    this.window.fail(this.failure)
    this.connecting?.reject(this.failure)
    this.connecting = undefined
    this.released()
  }

  /** The connection is gone or the writer failed: settle what `paused()` handed out. */
  protected released(): void {}

  private connected(session: S): void {
    if (this.isLost(session)) return this.loop.lost(new Error('connection closed while it was set up'))
    this.current = session
    // Everything unconfirmed goes out again, in order (numbered 1, 2, … on this connection), before
    // anything written from now on.
    const resend = this.window.rewind()
    for (let i = 0; i < resend.length; i++) this.transmit(session, resend[i]!, i + 1)
    this.connecting?.resolve()
    this.connecting = undefined
  }

  private transmit(session: S, message: M, seq: number): void {
    if (this.send(session, message, seq)) this.sent.inc()
  }
}
