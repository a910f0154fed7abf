import type { IMessage, StompHeaders } from '@stomp/stompjs'
import { ConnectorError } from '../../errors.js'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, SourceOutput, SourceReader } from '../../runtime/source.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { type AckStateV1, CheckpointAcks } from '../base/checkpoint-acks.js'
import { Fifo } from '../../util/fifo.js'
import { ReconnectLoop } from '../base/reconnect-loop.js'
import type { ActiveMQSourceSettings, ActiveMQMessage } from './options.js'
import { closeStomp, openStomp, receipted, type StompSession } from './connection.js'

interface Delivery {
  readonly message: ActiveMQMessage
  /** What ACK names the message by: the `ack` header (STOMP 1.2) or the message id (1.0, 1.1). */
  readonly ack: string
}

interface Subscribed {
  readonly session: StompSession
  readonly subscriptionId: string
}

/**
 * The reader of {@link ActiveMQSource}: one STOMP connection and subscription, a buffer bounded by the
 * prefetch, and the acknowledge-on-checkpoint bookkeeping. Counters let tests watch it.
 *
 * @example
 * const reader = new ActiveMQSource({ destination: '/queue/q' }).createReader(context)
 * await reader.start()
 */
export class ActiveMQReader implements SourceReader<ActiveMQMessage, AckStateV1> {
  private readonly buffer = new Fifo<Delivery>()
  private readonly available = new Availability()
  private readonly acks: CheckpointAcks<string> | undefined
  private readonly loop: ReconnectLoop<Subscribed>
  private current: Subscribed | undefined
  /** The subscription deliveries come from: `current`, or one whose RECEIPT has not arrived yet. */
  private delivering: Subscribed | undefined
  private failure: Error | undefined
  private closed = false
  private started: { resolve(): void; reject(error: Error): void } | undefined
  private receipts = 0
  private nudge: NodeJS.Timeout | undefined
  /** The most messages delivered and not yet acknowledged at any moment (buffered + emitted). */
  maxUnacknowledged = 0
  /** Redeliveries recognised by their message id and not emitted (exactly-once). */
  duplicates = 0

  constructor(
    private readonly settings: ActiveMQSourceSettings,
    processingTime: ProcessingTimeService,
    restored: readonly unknown[],
  ) {
    const { guarantee } = settings
    this.acks =
      guarantee === 'at-most-once'
        ? undefined
        : new CheckpointAcks<string>(
            guarantee === 'exactly-once',
            settings.dedupRetentionMs,
            () => processingTime.now(),
            restored,
          )
    this.loop = new ReconnectLoop<Subscribed>(settings.retry, processingTime, settings.endpoint, () => this.open(), {
      connected: (subscribed) => {
        if (subscribed.session.lost) {
          // what it delivered meanwhile is void
          this.buffer.clear()
          this.acks?.connectionLost()
          return this.loop.lost(new Error('connection closed while subscribing'))
        }
        this.current = subscribed
        this.started?.resolve()
        this.started = undefined
      },
      failed: (error) => this.fail(error),
      discard: (subscribed) => void closeStomp(subscribed.session),
    })
  }

  /** Connections made so far (reconnections included). */
  get connections(): number {
    return this.loop.connections
  }

  /** Delivered and not yet acknowledged now: buffered, plus emitted before a checkpoint completed. */
  get unacknowledged(): number {
    return this.buffer.size + (this.acks?.unacknowledged ?? 0)
  }

  /** Resolves once the subscription stands; rejects when no connection could be made. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.started = { resolve, reject }
      this.loop.start()
    })
  }

  pollNext(output: SourceOutput<ActiveMQMessage>): InputStatus {
    let delivery = this.buffer.shift()
    while (delivery !== undefined) {
      const acks = this.acks
      if (acks === undefined) {
        output.collect(delivery.message)
        this.ackNow(delivery.ack)
        break
      }
      if (acks.take(delivery.ack, acks.dedup ? delivery.message.messageId : undefined)) {
        output.collect(delivery.message)
        break
      }
      this.duplicates++
      delivery = this.buffer.shift()
    }
    if (this.buffer.size > 0) return 'more'
    if (this.failure !== undefined) throw this.failure
    this.nudgeSoon()
    return 'nothing-available'
  }

  /**
   * The buffer ran dry: an EOL heart-beat shortly after carries the TCP acknowledgement the broker's
   * Nagle algorithm may wait for before it sends the rest of a MESSAGE burst (else up to a delayed-ACK
   * timeout, 40 ms on Linux).
   */
  private nudgeSoon(): void {
    if (this.nudge !== undefined) return
    this.nudge = setTimeout(() => {
      this.nudge = undefined
      if (this.buffer.size > 0) return
      try {
        this.current?.session.client.webSocket?.send('\n')
      } catch {
        // the connection is closing
      }
    }, 2)
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  snapshotState(checkpointId: number): AckStateV1[] {
    return this.acks?.snapshot(checkpointId) ?? []
  }

  /** Sends an ACK for every message the completed checkpoint covers (client-individual). */
  notifyCheckpointComplete(checkpointId: number): void {
    const acks = this.acks
    if (acks === undefined) return
    const done = acks.complete(checkpointId)
    const current = this.delivering
    if (done.count === 0 || current === undefined || current.session.lost) return
    const { client } = current.session
    const { subscriptionId } = current
    const last = done.handles[done.handles.length - 1]!
    const lastAck = last[last.length - 1]!
    try {
      for (const handles of done.handles)
        for (const ack of handles) if (ack !== lastAck) client.ack(ack, subscriptionId)
      if (!acks.dedup) {
        client.ack(lastAck, subscriptionId)
        return
      }
      // The broker handles a connection's frames in order: the RECEIPT of the last ACK covers them all.
      // Not awaited: later completions need not wait for this round trip (a lost connection rejects it,
      // and the ids stay remembered as orphans until the redeliveries come).
      receipted(current.session, `ack-${++this.receipts}`, (receipt) =>
        client.ack(lastAck, subscriptionId, { receipt }),
      ).then(
        () => done.confirm(),
        () => {},
      )
    } catch {
      // the connection is gone: the broker redelivers these messages (their ids stay remembered as orphans)
    }
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.nudge)
    this.loop.close()
    this.started?.reject(new ConnectorError('ERR_CLOSED', `${this.settings.endpoint}: closed before it connected`))
    this.started = undefined
    const current = this.current
    this.current = undefined
    if (current !== undefined) await closeStomp(current.session)
  }

  private async open(): Promise<Subscribed> {
    const { settings } = this
    const session = await openStomp(settings)
    session.onLost = (cause) => this.lost(session, cause)
    try {
      const headers: StompHeaders = { ack: 'client-individual', 'activemq.prefetchSize': String(settings.prefetch) }
      if (settings.subscriptionName !== undefined) headers['activemq.subscriptionName'] = settings.subscriptionName
      const v12 = session.client.connectedVersion === '1.2'
      let subscriptionId = ''
      // A receipt for the SUBSCRIBE: the subscription stands (a refused one comes back as an ERROR frame).
      await receipted(session, 'subscribe', (receipt) => {
        subscriptionId = session.client.subscribe(settings.destination, (frame) => this.deliver(session, frame, v12), {
          ...headers,
          receipt,
        }).id
        this.delivering = { session, subscriptionId }
      })
      return { session, subscriptionId }
    } catch (error) {
      await closeStomp(session)
      throw error
    }
  }

  private deliver(session: StompSession, frame: IMessage, v12: boolean): void {
    if (session.lost || this.closed) return
    const { headers } = frame
    const body = frame.binaryBody
    const message: ActiveMQMessage = {
      messageId: headers['message-id'] ?? '',
      destination: headers.destination ?? this.settings.destination,
      redelivered: headers.redelivered === 'true',
      headers,
      body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    }
    this.buffer.push({ message, ack: (v12 ? headers.ack : headers['message-id']) ?? '' })
    const unacknowledged = this.buffer.size + (this.acks?.unacknowledged ?? 0)
    if (unacknowledged > this.maxUnacknowledged) this.maxUnacknowledged = unacknowledged
    if (this.buffer.size === 1) this.available.signal()
  }

  private ackNow(ack: string): void {
    const current = this.delivering
    if (current === undefined || current.session.lost) return
    try {
      current.session.client.ack(ack, current.subscriptionId)
    } catch {
      // the connection is closing; at-most-once tolerates the redelivery that may follow
    }
  }

  /** The connection of `session` is gone: its deliveries are void; connect again. */
  private lost(session: StompSession, cause: Error): void {
    if (this.closed) return
    if (this.delivering?.session === session) {
      this.buffer.clear()
      this.acks?.connectionLost()
    }
    // A subscription still being set up fails its open(), and the loop retries.
    if (this.current?.session !== session) return
    this.current = undefined
    this.loop.lost(cause)
  }

  private fail(error: Error): void {
    this.failure ??= error
    this.started?.reject(error)
    this.started = undefined
    this.available.signal()
  }
}
