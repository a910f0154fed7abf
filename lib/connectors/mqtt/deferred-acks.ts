/** A PUBACK (QoS 1) or PUBREC (QoS 2) that mqtt.js wanted to send for a received publish. */
export interface AckPacket {
  readonly cmd: 'puback' | 'pubrec'
  readonly messageId: number
  readonly reasonCode?: number
}

/** A QoS 1/2 message taken in, held unacknowledged: what {@link DeferredAcks.track} hands out. */
export interface HeldMessage {
  /** Its packet id. */
  readonly id: number
}

interface Held extends HeldMessage {
  /** The acknowledgement mqtt.js produced on this connection, held back (undefined until then). */
  ack: AckPacket | undefined
  /** The checkpoint covering the message completed: acknowledge as soon as the connection allows. */
  due: boolean
  /** After a reconnection: the broker has not sent this message again yet. */
  expected: boolean
}

/**
 * Holds back the acknowledgements of received QoS 1/2 messages until the checkpoint that covers them
 * completes, keyed by packet id. A broker does not reuse a packet id before it gets its
 * acknowledgement, so while an id is held a publish with that id and the DUP flag is the same message
 * again (a redelivery after a reconnection): it is not emitted twice.
 *
 * A publish *without* the DUP flag on a held id is a new message on a reused id (the broker broke the
 * rule above: Mosquitto 2 does past a Receive Maximum of 65,535). It is taken in like any new message,
 * never dropped, and reported to `reused` (the reader counts and logs it); the id's entry then stands
 * for the new message, and the older one's checkpoint no longer acknowledges it (each message is
 * handed out as its own {@link HeldMessage}). The broker sees one acknowledgement for the id: it treats
 * the older message as no longer in flight, so a failure before its checkpoint cannot bring it back.
 *
 * After a reconnection with the session kept, the broker sends every unacknowledged message again with
 * its packet id and the DUP flag (MQTT 3.1.1 §4.4, MQTT 5 §4.4) before new ones. Acknowledgements that
 * came due are sent at once, and also while those redeliveries are on their way; a redelivery that
 * crossed its own acknowledgement is skipped and not acknowledged twice (a second acknowledgement could
 * acknowledge a new message reusing the id). Held messages the broker did not send again before its
 * first new message are forgotten, never acknowledged: the broker no longer has them in flight, and
 * their ids may come back on new messages. Without the session everything held is forgotten.
 *
 * @example
 * const acks = new DeferredAcks((packet) => client._sendPacket(packet), () => client.connected, (id) => log.warn(`reused ${id}`))
 * const held = acks.track(7); acks.emitted(held); acks.barrier(1); acks.complete(1) // PUBACK 7 goes out
 */
export class DeferredAcks {
  private readonly held = new Map<number, Held>()
  private sinceBarrier: Held[] = []
  private readonly awaiting = new Map<number, Held[]>()
  /** Since the last reconnection, until the first new message: held messages are being sent again. */
  private expecting = false
  /** Acknowledged after the reconnection before the broker's redelivery of them arrived. */
  private readonly ackedBeforeRedelivery = new Set<number>()
  /** Acknowledgements mqtt.js will produce for skipped redeliveries, not to be sent. */
  private readonly swallow = new Set<number>()
  /** Acknowledgements sent, and held messages forgotten (the session was lost, or the broker did not send them again). */
  readonly counts = { sent: 0, forgotten: 0 }

  constructor(
    private readonly send: (packet: AckPacket) => void,
    private readonly connected: () => boolean,
    /** A new message arrived on a packet id still held (see the class comment). */
    private readonly reused: (id: number) => void,
  ) {}

  /** QoS 1/2 messages received and not acknowledged. */
  get size(): number {
    return this.held.size
  }

  /** Whether a publish with this id repeats a message taken in before (skip it). */
  isRedelivery(id: number, dup: boolean): boolean {
    if (!dup) {
      if (this.expecting) this.endRedeliveries()
      if (this.held.has(id)) this.reused(id)
      return false
    }
    const held = this.held.get(id)
    if (held !== undefined) {
      held.expected = false
      return true
    }
    if (this.ackedBeforeRedelivery.delete(id)) {
      this.swallow.add(id)
      return true
    }
    return false
  }

  /** A new QoS 1/2 message was taken in: what {@link emitted} takes when it leaves the source. */
  track(id: number): HeldMessage {
    const held: Held = { id, ack: undefined, due: false, expected: false }
    this.held.set(id, held)
    return held
  }

  /** The message left the source: the next barrier covers it (unless it is no longer held: session lost, id reused). */
  emitted(message: HeldMessage): void {
    if (this.held.get(message.id) === message) this.sinceBarrier.push(message as Held)
  }

  /** A checkpoint barrier: what was emitted since the last one waits for this checkpoint. */
  barrier(checkpointId: number): void {
    if (this.sinceBarrier.length === 0) return
    this.awaiting.set(checkpointId, this.sinceBarrier)
    this.sinceBarrier = []
  }

  /** The checkpoint (and every earlier one) completed: acknowledge what it covers. */
  complete(checkpointId: number): void {
    for (const [id, ids] of this.awaiting) {
      if (id > checkpointId) continue
      this.awaiting.delete(id)
      for (const held of ids) {
        if (this.held.get(held.id) !== held) continue
        held.due = true
        if (held.ack !== undefined && this.connected()) this.release(held.id, held, held.ack)
      }
    }
  }

  /** Called with every packet mqtt.js sends: true when it is an acknowledgement to hold back or drop. */
  intercept(packet: { cmd: string; messageId?: number; reasonCode?: number }): boolean {
    if ((packet.cmd !== 'puback' && packet.cmd !== 'pubrec') || packet.messageId === undefined) return false
    const id = packet.messageId
    if (this.swallow.delete(id)) return true
    const held = this.held.get(id)
    if (held === undefined) return false
    if (held.due && this.connected()) {
      this.held.delete(id)
      this.counts.sent++
      return false
    }
    held.ack = { cmd: packet.cmd, messageId: id, reasonCode: packet.reasonCode }
    return true
  }

  /** A CONNACK: without the session forget everything; with it send what came due and expect the redeliveries. */
  onConnect(sessionPresent: boolean): void {
    this.swallow.clear()
    this.ackedBeforeRedelivery.clear()
    if (!sessionPresent) {
      this.counts.forgotten += this.held.size
      this.held.clear()
      this.awaiting.clear()
      this.sinceBarrier = []
      this.expecting = false
      return
    }
    this.expecting = this.held.size > 0
    for (const held of this.held.values()) held.expected = true
    for (const [id, held] of this.held) if (held.due && held.ack !== undefined) this.release(id, held, held.ack)
  }

  private release(id: number, held: Held, ack: AckPacket): void {
    this.held.delete(id)
    if (held.expected) this.ackedBeforeRedelivery.add(id)
    this.counts.sent++
    this.send(ack)
  }

  /** The broker sent a new message: it resent what it had in flight; what it did not resend is not in flight. */
  private endRedeliveries(): void {
    this.expecting = false
    this.ackedBeforeRedelivery.clear()
    for (const [id, held] of this.held) {
      if (!held.expected) continue
      this.held.delete(id)
      this.counts.forgotten++
    }
  }
}
