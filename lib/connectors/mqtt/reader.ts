import type { IPublishPacket, MqttClient } from 'mqtt'
import { ConnectorError } from '../../errors.js'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { MqttConnection } from './connection.js'
import { type AckPacket, DeferredAcks, type HeldMessage } from './deferred-acks.js'
import type { MqttSourceSettings, MqttMessage } from './options.js'
import { Fifo } from '../../util/fifo.js'
import { Deferred } from '../../util/deferred.js'
import { AckWindow } from '../base/ack-window.js'
import { type Counter, MetricGroup } from '../../runtime/metric-group.js'
import { type Logger, createLogger } from '../../logging.js'

interface Buffered {
  readonly message: MqttMessage
  /** A QoS 1/2 message's entry in the held acknowledgements. */
  readonly held: HeldMessage | undefined
}

/**
 * The reader of {@link MqttSource}. `unacknowledged`, `maxUnacknowledgedSeen`, `window`, `buffered` and
 * `reconnections` let a caller watch it.
 *
 * Its window: acknowledging on completed checkpoints caps throughput at window ÷ checkpoint interval.
 * MQTT 5 fixes the Receive Maximum per connection, so it is set once to `maxUnacknowledged` (the
 * ceiling, at most 65,534) and the reader's own {@link AckWindow} bounds what it holds: it stops reading
 * (parks the next QoS 1/2 message, which stops mqtt.js reading the socket) at `window` unacknowledged.
 * The window starts at `initialUnacknowledged` and grows once (`'once-to-budget'`), the first time the
 * reader runs dry with the whole window unacknowledged (at once, not at the next checkpoint), to half of
 * `maxUnacknowledgedBytes` at the average payload size seen, up to `maxUnacknowledged`.
 *
 * A new message on a packet id still held (see {@link DeferredAcks}) is taken in, counted in the
 * `reusedPacketIds` metric and logged.
 *
 * @example
 * const reader = new MqttSource(options).createReader(context)
 * await reader.start()
 */
export class MqttReader implements SourceReader<MqttMessage, never> {
  readonly connection: MqttConnection
  private acks!: DeferredAcks
  private readonly available = new Availability()
  private readonly buffer = new Fifo<Buffered>()
  private readonly ackWindow: AckWindow
  /** A message that arrived while full; mqtt.js waits for its `release` before the next packet. */
  private parked: { packet: IPublishPacket; release: () => void } | undefined
  private failure: ConnectorError | undefined
  private closed = false
  /** Until the broker granted the subscriptions. */
  private subscription: Deferred | undefined
  /** While start() waits for the SUBACK: called when the reader fills up first. */
  private filled: Deferred | undefined
  /** The most QoS 1/2 messages ever unacknowledged at once. */
  maxUnacknowledgedSeen = 0
  /** Messages taken in, and redeliveries skipped. */
  readonly counts = { received: 0, redeliveries: 0, parked: 0 }
  /**
   * The reader's metrics (the job's, labelled 'mqtt'): the counter `reusedPacketIds`, the gauges
   * `connections` (made so far: more than one means it reconnected) and `redeliveries` (skipped).
   */
  readonly metrics: MetricGroup
  private readonly reusedPacketIds: Counter
  private readonly log: Logger

  constructor(
    private readonly settings: MqttSourceSettings,
    context: SourceReaderContext,
  ) {
    const { clientId, clean, protocolVersion, maxUnacknowledged, sessionExpirySeconds } = settings
    this.metrics = context.metrics ?? new MetricGroup('mqtt')
    this.reusedPacketIds = this.metrics.counter('reusedPacketIds')
    this.metrics.gauge('connections', () => this.connection.connections)
    this.metrics.gauge('redeliveries', () => this.counts.redeliveries)
    this.log = (context.logger ?? createLogger()).child({ connector: 'mqtt', subtask: context.subtask })
    const properties =
      protocolVersion === 5
        ? { receiveMaximum: maxUnacknowledged, sessionExpiryInterval: sessionExpirySeconds }
        : undefined
    this.ackWindow = new AckWindow(
      {
        initial: settings.initialUnacknowledged,
        max: maxUnacknowledged,
        maxBytes: settings.maxUnacknowledgedBytes,
        checkpointIntervalMs: context.checkpointIntervalMs,
        growth: 'once-to-budget',
      },
      () => context.processingTime.now(),
    )
    this.connection = new MqttConnection(
      settings,
      { clientId, clean, properties, resubscribe: true },
      'mqttSource',
      context.processingTime,
      (client) => this.install(client),
    )
    this.connection.onFailure((error) => this.fail(error))
    this.connection.onConnect((sessionPresent) => {
      this.acks.onConnect(sessionPresent)
    })
  }

  /** QoS 1/2 messages received and not acknowledged now (buffered, or emitted and waiting for a checkpoint). */
  get unacknowledged(): number {
    return this.acks.size
  }

  /** The QoS 1/2 messages the reader holds unacknowledged at most now. */
  get window(): number {
    return this.ackWindow.current
  }

  /** Messages received and not yet handed to the job. */
  get buffered(): number {
    return this.buffer.size
  }

  get reconnections(): number {
    return Math.max(0, this.connection.connections - 1)
  }

  async start(): Promise<void> {
    // mqtt.js handles packets in order: the messages of a kept session can fill the reader before the
    // SUBACK is read (even before this method resumes after the CONNACK), and the SUBACK then waits for
    // the job to take messages. start() does not wait for the SUBACK then.
    const filled = new Deferred()
    this.filled = filled
    await this.connection.start()
    const subscribed = new Deferred()
    this.subscription = subscribed
    // a connection lost before the SUBACK: subscribe again on the next one
    this.connection.onConnect(() => {
      if (this.subscription !== undefined) void this.subscribe()
    })
    this.connection.onFailure((error) => this.subscription?.reject(error))
    void this.subscribe()
    await Promise.race([subscribed.promise, filled.promise])
    this.filled = undefined
  }

  /** Subscribes (again: a kept session has the subscriptions, and the QoS or topics may have changed). */
  private async subscribe(): Promise<void> {
    const { topics, qos, url } = this.settings
    let granted
    try {
      granted = await this.connection.client.subscribeAsync(topics as string[], { qos })
    } catch {
      return // the connection closed first: the next connection subscribes
    }
    const subscription = this.subscription
    if (subscription === undefined) return
    this.subscription = undefined
    const refused = granted.filter((g) => g.qos > 2)
    if (refused.length === 0) return subscription.resolve()
    const error = new ConnectorError(
      'ERR_SUBSCRIBE',
      `mqttSource ${url}: the broker refused the subscription to ${refused.map((g) => g.topic).join(', ')} (reason ${refused[0]!.qos})`,
    )
    this.fail(error)
    subscription.reject(error)
  }

  pollNext(output: SourceOutput<MqttMessage>): InputStatus {
    const entry = this.buffer.shift()
    if (entry !== undefined) {
      output.collect(entry.message)
      if (entry.held !== undefined) {
        this.ackWindow.taken(entry.message.payload.length)
        this.acks.emitted(entry.held)
      }
      if (this.parked !== undefined) this.unpark()
      if (this.buffer.size > 0) return 'more'
    }
    // ran dry with the whole window waiting for a checkpoint: the window is the limit, and grows now
    if (
      this.parked !== undefined &&
      this.acks.size >= this.ackWindow.current &&
      this.ackWindow.starved() !== undefined
    ) {
      this.unpark()
      if (this.buffer.size > 0) return 'more'
    }
    if (this.failure !== undefined) throw this.failure
    return 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  /** Nothing to restore: the broker's session holds what is unacknowledged. */
  snapshotState(checkpointId: number): never[] {
    this.acks.barrier(checkpointId)
    return []
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.acks.complete(checkpointId)
    this.ackWindow.checkpointCompleted()
    if (this.parked !== undefined) this.unpark()
  }

  async close(): Promise<void> {
    this.closed = true
    this.parked = undefined
    // no DISCONNECT niceties: what is unacknowledged must stay with the broker for the next run
    await this.connection.close(true)
  }

  /** Installs the hooks on the client before it connects (see the class comment for why these). */
  private install(client: MqttClient): void {
    const internal = client as unknown as {
      _sendPacket: (
        packet: { cmd: string; messageId?: number },
        cb?: (error?: Error) => void,
        ...rest: unknown[]
      ) => void
    }
    if (typeof internal._sendPacket !== 'function')
      throw new ConnectorError(
        'ERR_UNSUPPORTED_CLIENT',
        'mqttSource: this mqtt.js version has no MqttClient._sendPacket to hold acknowledgements back at',
      )
    const send = internal._sendPacket.bind(client)
    this.acks = new DeferredAcks(
      (packet: AckPacket) => send(packet),
      () => client.connected,
      (id) => this.reusedId(id),
    )
    internal._sendPacket = (packet, cb, ...rest) => {
      if (!this.acks.intercept(packet)) return send(packet, cb, ...rest)
      cb?.()
    }
    client.options.customHandleAcks = (_topic, _payload, packet, done) =>
      this.receive(packet as IPublishPacket, () => done(0))
    client.handleMessage = (packet, callback) => {
      if (packet.qos === 0) this.receive(packet, () => callback())
      else callback() // QoS 1/2 were taken in by customHandleAcks when the PUBLISH arrived
    }
    // a packet parked on a dropped connection belongs to its dead packet loop: the broker sends it again
    client.on('close', () => {
      this.parked = undefined
    })
  }

  /** A PUBLISH arrived: skip a redelivery, take it in, or park it while full. */
  private receive(packet: IPublishPacket, release: () => void): void {
    if (this.closed) return
    if (packet.qos > 0 && this.acks.isRedelivery(packet.messageId!, packet.dup)) {
      this.counts.redeliveries++
      release()
      return
    }
    if (this.full(packet.qos)) {
      this.counts.parked++
      this.parked = { packet, release }
      this.filled?.resolve()
      return
    }
    this.accept(packet)
    release()
  }

  private full(qos: number): boolean {
    return this.buffered >= this.settings.maxBuffered || (qos > 0 && this.acks.size >= this.ackWindow.current)
  }

  /**
   * The broker sent a new message on a packet id the reader still holds unacknowledged: taken in (not
   * dropped), counted (`reusedPacketIds`) and logged: the first time, then with the count at every
   * thousandth (a broker that does it once usually does it for a whole window).
   */
  private reusedId(id: number): void {
    this.reusedPacketIds.inc()
    const count = this.metrics.value('reusedPacketIds')!
    if (count !== 1 && count % 1000 !== 0) return
    this.log.warn(
      'the broker sent a new message on a packet id still unacknowledged: taken in; the broker no longer holds the earlier message of that id for redelivery',
      { packetId: id, reusedPacketIds: count },
    )
  }

  private accept(packet: IPublishPacket): void {
    let held: HeldMessage | undefined
    if (packet.qos > 0) {
      held = this.acks.track(packet.messageId!)
      if (this.acks.size > this.maxUnacknowledgedSeen) this.maxUnacknowledgedSeen = this.acks.size
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
    const message: MqttMessage =
      packet.properties === undefined
        ? { topic: packet.topic, payload, qos: packet.qos, retain: packet.retain }
        : { topic: packet.topic, payload, qos: packet.qos, retain: packet.retain, properties: packet.properties }
    this.buffer.push({ message, held })
    this.counts.received++
    this.available.signal()
  }

  /** Takes the parked message once the buffer is down to half (not one by one: each resumption costs a turn of mqtt.js's packet loop). */
  private unpark(): void {
    const parked = this.parked!
    if (this.buffered > this.settings.maxBuffered / 2 || this.full(parked.packet.qos)) return
    this.parked = undefined
    this.accept(parked.packet)
    parked.release()
  }

  private fail(error: ConnectorError): void {
    if (this.closed) return
    this.failure ??= error
    this.available.signal()
  }
}
