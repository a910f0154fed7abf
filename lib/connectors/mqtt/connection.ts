import type { IClientOptions, MqttClient } from 'mqtt'
import { backoffDelay } from '../../util/backoff.js'
import { ConnectorError, messageOf } from '../../errors.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { optionalDependency } from '../../util/optional-dependency.js'
import type { MqttConnectionSettings } from './options.js'

/** mqtt.js, an optional peer dependency: the source and sink check for it when they are built. */
export const mqtt = await optionalDependency<typeof import('mqtt')>('mqtt')

/**
 * One mqtt.js client with the connector's reconnection rule: mqtt.js's own fixed-period reconnection
 * is off; after a failed attempt or a dropped connection this schedules `reconnect()` with a doubling
 * delay, keeping the client's message stores (QoS 1/2 publishes in flight are sent again), and once
 * `retry.maxRetries` retries in a row failed it gives up with ConnectorError 'ERR_CONNECT' naming the URL,
 * the attempts and the last error.
 *
 * Not on the connectors' ReconnectLoop: a new connection must be the same client object, reconnected
 * with `client.reconnect()` so that its message stores carry over, whereas the loop makes a new
 * connection per attempt; the delays come from the same `backoffDelay` and retry settings.
 *
 * @example
 * const connection = new MqttConnection(settings, { clientId: 'ingest', clean: false }, 'mqttSource', processingTime)
 * await connection.start()
 */
export class MqttConnection {
  readonly client: MqttClient
  failure: ConnectorError | undefined
  /** Whether a CONNACK was received and the connection has not closed since. */
  connected = false
  /** Successful connections so far; more than one means it reconnected. */
  connections = 0
  private retriesUsed = 0
  private lastError: Error | undefined
  private cancelRetry: (() => void) | undefined
  private closing = false
  private readonly connectListeners: ((sessionPresent: boolean) => void)[] = []
  private readonly failureListeners: ((error: ConnectorError) => void)[] = []

  /** `prepare` runs before the first connection, to install hooks on the client. */
  constructor(
    readonly settings: MqttConnectionSettings,
    clientOptions: IClientOptions,
    readonly owner: string,
    private readonly processingTime: ProcessingTimeService,
    prepare?: (client: MqttClient) => void,
  ) {
    const { protocolVersion, username, password, keepaliveSeconds, retry, options } = settings
    this.client = mqtt.get(owner).connect(settings.url, {
      ...options,
      ...clientOptions,
      protocolVersion,
      username,
      password,
      keepalive: keepaliveSeconds,
      connectTimeout: retry.connectTimeoutMs,
      reconnectPeriod: 0,
      manualConnect: true,
    })
    prepare?.(this.client)
    this.client.on('error', (error: Error) => {
      this.lastError = error
    })
    this.client.on('connect', (connack) => {
      // Nagle would hold the last small packets of a burst (the PUBACKs of a completed checkpoint, the
      // publishes a barrier waits for) behind the broker's delayed ACK, up to ~40 ms each time
      ;(this.client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true)
      this.connected = true
      this.connections++
      this.retriesUsed = 0
      for (const listener of this.connectListeners) listener(connack.sessionPresent)
    })
    this.client.on('close', () => this.onClose())
  }

  /** Connects; resolves on the first CONNACK, rejects with the ConnectorError when the retries run out first. */
  start(): Promise<void> {
    const first = new Promise<void>((resolve, reject) => {
      this.connectListeners.push(() => resolve())
      this.failureListeners.push(reject)
    })
    // a caller that gave up waiting (a cancelled subtask) must not leave an unhandled rejection behind
    first.catch(() => {})
    this.client.connect()
    return first
  }

  /** Called on every CONNACK with its session-present flag. */
  onConnect(listener: (sessionPresent: boolean) => void): void {
    this.connectListeners.push(listener)
  }

  /** Called with the ConnectorError once the retries are used up. */
  onFailure(listener: (error: ConnectorError) => void): void {
    if (this.failure !== undefined) listener(this.failure)
    else this.failureListeners.push(listener)
  }

  /** Ends the client: gracefully (a DISCONNECT after what is queued) or at once. */
  async close(force = false): Promise<void> {
    if (this.closing) return
    this.closing = true
    this.cancelRetry?.()
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.client.end(true, () => resolve()), 2000)
      timer.unref()
      this.client.end(force || !this.connected, () => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  private onClose(): void {
    const wasConnected = this.connected
    this.connected = false
    if (this.closing || this.failure !== undefined) return
    const { maxRetries } = this.settings.retry
    if (this.retriesUsed >= maxRetries) {
      const reason = this.lastError === undefined ? 'connection closed' : messageOf(this.lastError)
      const attempts = this.retriesUsed + 1
      const what = wasConnected
        ? 'connection lost, no retries allowed'
        : `no connection after ${attempts} attempt${attempts === 1 ? '' : 's'}`
      this.failure = new ConnectorError(
        'ERR_CONNECT',
        `${this.owner} ${this.settings.url}: ${what} (maxRetries ${maxRetries}): ${reason}`,
        { cause: this.lastError, retriable: true },
      )
      this.client.end(true)
      for (const listener of this.failureListeners) listener(this.failure)
      return
    }
    const delay = backoffDelay(this.retriesUsed++, this.settings.retry)
    this.cancelRetry = this.processingTime.scheduleAt(this.processingTime.now() + delay, () => {
      this.cancelRetry = undefined
      if (this.closing) return
      // the same stores: QoS 1/2 publishes not yet acknowledged are sent again on the new connection
      this.client.reconnect({ incomingStore: this.client.incomingStore, outgoingStore: this.client.outgoingStore })
    })
  }
}
