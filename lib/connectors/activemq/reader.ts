import type { IMessage, StompHeaders, StompSubscription } from '@stomp/stompjs'
import type { SourceReaderContext } from '../../runtime/source.js'
import type { CompletedAcks } from '../base/checkpoint-acks.js'
import { QueueReaderBase } from '../base/queue-reader.js'
import { closeStomp, corked, openStomp, receipted, type StompSession } from './connection.js'
import type { ActiveMQMessage, ActiveMQSourceSettings } from './options.js'

/**
 * A completed checkpoint is acknowledged with one cumulative ACK per this many messages (and one for the
 * rest): ActiveMQ pages a queue's messages in for dispatch `maxPageSize` (200 by default) at a time and
 * only when woken, by an ACK among others, so one ACK per checkpoint would let about 200 messages through
 * per checkpoint; one per 100 lets each wake-up page in more than it acknowledged.
 */
const ACK_EVERY = 100

/** One SUBSCRIBE of the reader's connection; a window change replaces it with another. */
interface Subscription {
  readonly id: string
  readonly stomp: StompSubscription
  /** Its deliveries not yet acknowledged (buffered or emitted). */
  held: number
  /** Replaced: it delivers nothing more to the job, and is unsubscribed once `held` is 0. */
  retired: boolean
}

/** What acknowledges a delivery; kept until its checkpoint completes (the body is not). */
interface AckHandle {
  /** What ACK names the message by: the `ack` header (STOMP 1.2) or the message id (1.0, 1.1). */
  readonly ack: string
  readonly subscription: Subscription
}

interface Delivery {
  readonly message: ActiveMQMessage
  readonly handle: AckHandle
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
 * subscription (`ack: client`, `activemq.prefetchSize` the window). A completed checkpoint is
 * acknowledged with one cumulative ACK per subscription — of the last message it covers, which
 * acknowledges every message that subscription delivered before it (the reader emits a subscription's
 * messages in the order they came) — the last ACK with a receipt (exactly-once).
 *
 * Why cumulative: with `client-individual`, a completion of n messages is n small ACK frames written at
 * once. With Nagle off each is its own TCP segment, and ActiveMQ's STOMP transport reads no frame while
 * its dispatch thread is blocked writing MESSAGE frames (one mutex for both), so the broker's receive
 * buffer fills with tiny segments, the kernel prunes and drops them, and the retransmission backoff
 * stalls the connection for seconds to minutes (the stall of the growing window: the larger the
 * window, the larger the burst).
 *
 * STOMP fixes the prefetch at SUBSCRIBE, and an UNSUBSCRIBE gives back what the subscription has not
 * acknowledged. A window change therefore subscribes again with the new prefetch and retires the old
 * subscription: what it delivered before is emitted and acknowledged as usual, what it delivers after
 * is dropped unseen (the broker redelivers it), and it is unsubscribed once nothing it delivered waits
 * for acknowledgement. Because each change costs that, the window grows once, to the byte budget
 * (`windowGrowth: 'once-to-budget'`). A durable topic subscription keeps `prefetch` (its name allows
 * one consumer: the settings make `maxPrefetch` the prefetch).
 *
 * @example
 * const reader = new ActiveMQSource({ destination: '/queue/q' }).createReader(context)
 * await reader.start()
 */
export class ActiveMQReader extends QueueReaderBase<Delivery, ActiveMQMessage, AckHandle, Subscribed> {
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

  protected handleOf(delivery: Delivery): AckHandle {
    return delivery.handle
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

  /**
   * Acknowledges what the completed checkpoint covers: per subscription, a cumulative ACK (`ack:
   * client`) of every {@link ACK_EVERY}th message and of its last one, written together (corked); the
   * last ACK carries a receipt (exactly-once). A retired subscription with nothing left to acknowledge
   * is unsubscribed.
   */
  protected acknowledge(current: Subscribed, done: CompletedAcks<AckHandle>): void {
    const { client } = current.session
    const toAck: AckHandle[] = []
    /** Per subscription, the handles since its last ACK in `toAck`. */
    const since = new Map<Subscription, { count: number; last: AckHandle }>()
    for (const handles of done.handles)
      for (const handle of handles) {
        const { subscription } = handle
        subscription.held--
        const run = since.get(subscription)
        if (run === undefined) since.set(subscription, { count: 1, last: handle })
        else {
          run.count++
          run.last = handle
        }
        if (run !== undefined && run.count === ACK_EVERY) {
          toAck.push(handle)
          since.delete(subscription)
        }
      }
    for (const run of since.values()) toAck.push(run.last)
    const last = toAck.pop()!
    try {
      corked(current.session, () => {
        for (const { ack, subscription } of toAck) client.ack(ack, subscription.id)
        if (!this.acks!.dedup) client.ack(last.ack, last.subscription.id)
        else {
          // The broker handles a connection's frames in order: the RECEIPT of the last ACK covers them all.
          // Not awaited: later completions need not wait for this round trip (a lost connection rejects it,
          // and the ids stay remembered as orphans until the redeliveries come).
          receipted(current.session, `ack-${++this.receipts}`, (receipt) =>
            client.ack(last.ack, last.subscription.id, { receipt }),
          ).then(
            () => done.confirm(),
            () => {},
          )
        }
      })
      for (const retired of current.retired) {
        if (retired.held > 0) continue
        current.retired.delete(retired)
        retired.stomp.unsubscribe()
      }
    } catch {
      // the connection is gone: the broker redelivers these messages (their ids stay remembered as orphans)
    }
  }

  /** At-most-once: one ACK per message as it is emitted (cumulative: the same as one each, in order). */
  protected acknowledgeEmitted(handle: AckHandle): void {
    const current = this.delivering
    if (current === undefined || current.session.lost) return
    try {
      current.session.client.ack(handle.ack, handle.subscription.id)
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
    const headers: StompHeaders = { ack: 'client', 'activemq.prefetchSize': String(prefetch) }
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
    this.deliver(subscribed, {
      message,
      handle: { ack: (v12 ? headers.ack : headers['message-id']) ?? '', subscription },
    })
  }
}
