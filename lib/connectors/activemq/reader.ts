import type { IMessage, StompHeaders } from '@stomp/stompjs'
import type { SourceReaderContext } from '../../runtime/source.js'
import type { CompletedAcks } from '../base/checkpoint-acks.js'
import { QueueReaderBase } from '../base/queue-reader.js'
import { closeStomp, openStomp, receipted, type StompSession } from './connection.js'
import type { ActiveMQMessage, ActiveMQSourceSettings } from './options.js'

interface Delivery {
  readonly message: ActiveMQMessage
  /** What ACK names the message by: the `ack` header (STOMP 1.2) or the message id (1.0, 1.1). */
  readonly ack: string
}

interface Subscribed {
  readonly session: StompSession
  subscriptionId: string
}

/**
 * The reader of {@link ActiveMQSource} on the {@link QueueReaderBase}: one STOMP connection and
 * subscription (`client-individual`, `activemq.prefetchSize` the prefetch); the acknowledgements of a
 * completed checkpoint are one ACK each, the last with a receipt (exactly-once).
 *
 * @example
 * const reader = new ActiveMQSource({ destination: '/queue/q' }).createReader(context)
 * await reader.start()
 */
export class ActiveMQReader extends QueueReaderBase<Delivery, ActiveMQMessage, string, Subscribed> {
  private receipts = 0
  private nudge: NodeJS.Timeout | undefined

  constructor(
    private readonly settings: ActiveMQSourceSettings,
    context: SourceReaderContext,
    restored: readonly unknown[],
  ) {
    super('activemq', settings, context, restored)
  }

  protected messageOf(delivery: Delivery): ActiveMQMessage {
    return delivery.message
  }

  protected handleOf(delivery: Delivery): string {
    return delivery.ack
  }

  protected idOf(delivery: Delivery): string {
    return delivery.message.messageId
  }

  /**
   * The buffer ran dry: an EOL heart-beat shortly after carries the TCP acknowledgement the broker's
   * Nagle algorithm may wait for before it sends the rest of a MESSAGE burst (else up to a delayed-ACK
   * timeout, 40 ms on Linux).
   */
  protected override drained(): void {
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

  /** Sends an ACK for every message the completed checkpoint covers (client-individual). */
  protected acknowledge(current: Subscribed, done: CompletedAcks<string>): void {
    const { client } = current.session
    const { subscriptionId } = current
    const last = done.handles[done.handles.length - 1]!
    const lastAck = last[last.length - 1]!
    try {
      for (const handles of done.handles)
        for (const ack of handles) if (ack !== lastAck) client.ack(ack, subscriptionId)
      if (!this.acks!.dedup) {
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

  /** At-most-once: one ACK per message as it is emitted. */
  protected acknowledgeEmitted(ack: string): void {
    const current = this.delivering
    if (current === undefined || current.session.lost) return
    try {
      current.session.client.ack(ack, current.subscriptionId)
    } catch {
      // the connection is closing; at-most-once tolerates the redelivery that may follow
    }
  }

  protected isLost(subscribed: Subscribed): boolean {
    return subscribed.session.lost
  }

  protected closeSession(subscribed: Subscribed): Promise<void> {
    return closeStomp(subscribed.session)
  }

  override async close(): Promise<void> {
    clearTimeout(this.nudge)
    await super.close()
  }

  protected async open(): Promise<Subscribed> {
    const { settings } = this
    const session = await openStomp(settings)
    const subscribed: Subscribed = { session, subscriptionId: '' }
    session.onLost = (cause) => this.lost(subscribed, cause)
    try {
      const headers: StompHeaders = { ack: 'client-individual', 'activemq.prefetchSize': String(settings.prefetch) }
      if (settings.subscriptionName !== undefined) headers['activemq.subscriptionName'] = settings.subscriptionName
      const v12 = session.client.connectedVersion === '1.2'
      // A receipt for the SUBSCRIBE: the subscription stands (a refused one comes back as an ERROR frame).
      await receipted(session, 'subscribe', (receipt) => {
        subscribed.subscriptionId = session.client.subscribe(
          settings.destination,
          (frame) => this.deliverFrame(subscribed, frame, v12),
          { ...headers, receipt },
        ).id
        this.beginDelivering(subscribed)
      })
      return subscribed
    } catch (error) {
      await closeStomp(session)
      throw error
    }
  }

  private deliverFrame(subscribed: Subscribed, frame: IMessage, v12: boolean): void {
    if (subscribed.session.lost || this.closed) return
    const { headers } = frame
    const body = frame.binaryBody
    const message: ActiveMQMessage = {
      messageId: headers['message-id'] ?? '',
      destination: headers.destination ?? this.settings.destination,
      redelivered: headers.redelivered === 'true',
      headers,
      body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    }
    this.deliver(subscribed, { message, ack: (v12 ? headers.ack : headers['message-id']) ?? '' })
  }
}
