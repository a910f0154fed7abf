import type { IMessage, StompHeaders, StompSubscription } from '@stomp/stompjs'
import type { SourceReaderContext } from '../../runtime/source.js'
import type { CompletedAcks } from '../base/checkpoint-acks.js'
import { QueueReaderBase } from '../base/queue-reader.js'
import { closeStomp, openStomp, receipted, type StompSession } from './connection.js'
import type { ActiveMQMessage, ActiveMQSourceSettings } from './options.js'

/** One SUBSCRIBE of the reader's connection; a window change replaces it with another. */
interface Subscription {
  readonly id: string
  readonly stomp: StompSubscription
  /** Its deliveries not yet acknowledged (buffered or emitted). */
  held: number
  /** Replaced: it delivers nothing more to the job, and is unsubscribed once `held` is 0. */
  retired: boolean
}

interface Delivery {
  readonly message: ActiveMQMessage
  /** What ACK names the message by: the `ack` header (STOMP 1.2) or the message id (1.0, 1.1). */
  readonly ack: string
  readonly subscription: Subscription
}

interface Subscribed {
  readonly session: StompSession
  /** The subscription delivering now. */
  subscription: Subscription | undefined
  /** Replaced subscriptions whose deliveries still wait for acknowledgement. */
  readonly retired: Set<Subscription>
}

/**
 * The reader of {@link ActiveMQSource} on the {@link QueueReaderBase}: one STOMP connection and
 * subscription (`client-individual`, `activemq.prefetchSize` the window); the acknowledgements of a
 * completed checkpoint are one ACK each, the last with a receipt (exactly-once).
 *
 * STOMP fixes the prefetch at SUBSCRIBE, and an UNSUBSCRIBE gives back what the subscription has not
 * acknowledged. A window change therefore subscribes again with the new prefetch and retires the old
 * subscription: what it delivered before is emitted and acknowledged as usual, what it delivers after
 * is dropped unseen (the broker redelivers it), and it is unsubscribed once nothing it delivered waits
 * for acknowledgement. A durable topic subscription keeps `prefetch` (its name allows one consumer:
 * the settings make `maxPrefetch` the prefetch).
 *
 * @example
 * const reader = new ActiveMQSource({ destination: '/queue/q' }).createReader(context)
 * await reader.start()
 */
export class ActiveMQReader extends QueueReaderBase<Delivery, ActiveMQMessage, Delivery, Subscribed> {
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

  protected handleOf(delivery: Delivery): Delivery {
    return delivery
  }

  protected bytesOf(delivery: Delivery): number {
    return delivery.message.body.byteLength
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
  protected acknowledge(current: Subscribed, done: CompletedAcks<Delivery>): void {
    const { client } = current.session
    const last = done.handles[done.handles.length - 1]!
    const lastDelivery = last[last.length - 1]!
    try {
      for (const handles of done.handles)
        for (const delivery of handles) {
          delivery.subscription.held--
          if (delivery !== lastDelivery) client.ack(delivery.ack, delivery.subscription.id)
        }
      const { ack, subscription } = lastDelivery
      if (!this.acks!.dedup) client.ack(ack, subscription.id)
      else {
        // The broker handles a connection's frames in order: the RECEIPT of the last ACK covers them all.
        // Not awaited: later completions need not wait for this round trip (a lost connection rejects it,
        // and the ids stay remembered as orphans until the redeliveries come).
        receipted(current.session, `ack-${++this.receipts}`, (receipt) =>
          client.ack(ack, subscription.id, { receipt }),
        ).then(
          () => done.confirm(),
          () => {},
        )
      }
      for (const retired of current.retired) {
        if (retired.held > 0) continue
        current.retired.delete(retired)
        retired.stomp.unsubscribe()
      }
    } catch {
      // the connection is gone: the broker redelivers these messages (their ids stay remembered as orphans)
    }
  }

  /** At-most-once: one ACK per message as it is emitted. */
  protected acknowledgeEmitted(delivery: Delivery): void {
    const current = this.delivering
    if (current === undefined || current.session.lost) return
    try {
      current.session.client.ack(delivery.ack, delivery.subscription.id)
    } catch {
      // the connection is closing; at-most-once tolerates the redelivery that may follow
    }
  }

  /** Subscribes with the new prefetch, then retires the old subscription. */
  protected async resizeWindow(subscribed: Subscribed, size: number): Promise<void> {
    const old = subscribed.subscription!
    await this.subscribe(subscribed, size, `subscribe-${++this.receipts}`)
    old.retired = true
    if (old.held > 0) subscribed.retired.add(old)
    else old.stomp.unsubscribe()
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
    const subscribed: Subscribed = { session, subscription: undefined, retired: new Set() }
    session.onLost = (cause) => this.lost(subscribed, cause)
    try {
      await this.subscribe(subscribed, this.window, 'subscribe')
      return subscribed
    } catch (error) {
      await closeStomp(session)
      throw error
    }
  }

  /**
   * SUBSCRIBE with `prefetch`, and a receipt: resolves once the subscription stands (a refused one comes
   * back as an ERROR frame, which closes the connection). It delivers to the job from then on.
   */
  private subscribe(subscribed: Subscribed, prefetch: number, receiptId: string): Promise<void> {
    const { settings } = this
    const { session } = subscribed
    const headers: StompHeaders = { ack: 'client-individual', 'activemq.prefetchSize': String(prefetch) }
    if (settings.subscriptionName !== undefined) headers['activemq.subscriptionName'] = settings.subscriptionName
    const v12 = session.client.connectedVersion === '1.2'
    return receipted(session, receiptId, (receipt) => {
      // frames are delivered asynchronously: never before `subscription` is set
      let subscription: Subscription | undefined
      const stomp = session.client.subscribe(
        settings.destination,
        (frame) => this.deliverFrame(subscribed, subscription!, frame, v12),
        { ...headers, receipt },
      )
      subscription = { id: stomp.id, stomp, held: 0, retired: false }
      subscribed.subscription = subscription
      this.beginDelivering(subscribed)
    })
  }

  private deliverFrame(subscribed: Subscribed, subscription: Subscription, frame: IMessage, v12: boolean): void {
    // A retired subscription's later deliveries come again once it is unsubscribed.
    if (subscribed.session.lost || this.closed || subscription.retired) return
    const { headers } = frame
    const body = frame.binaryBody
    const message: ActiveMQMessage = {
      messageId: headers['message-id'] ?? '',
      destination: headers.destination ?? this.settings.destination,
      redelivered: headers.redelivered === 'true',
      headers,
      body: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    }
    subscription.held++
    this.deliver(subscribed, { message, ack: (v12 ? headers.ack : headers['message-id']) ?? '', subscription })
  }
}
