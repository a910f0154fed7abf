import { connect, type Socket } from 'node:net'
import type { Service } from 'avsc'
import { messageOf } from '../../errors.js'
import { type AvroFlumeEvent, type AvroStatus, avroSourceService } from './avro-protocol.js'
import { type FlumeHostClient, HostFailure } from './host-client.js'
import type { FlumeHost } from './options.js'

/**
 * Flume's Avro RPC to one agent (what Flume's NettyAvroRpcClient does): one TCP connection with Nagle
 * off (`setNoDelay`, else each call waits ~40–90 ms for a delayed ACK), Avro IPC with Netty framing over
 * it (avsc's stateful channel: handshake, then `appendBatch` calls). A failed call — a timeout, a lost
 * connection — closes the connection, so a late answer can never be taken for a later batch's; the
 * next batch connects again.
 *
 * Threading: one batch at a time (the writer sends in order); everything runs on the event loop.
 *
 * @example
 * const client = new AvroHostClient({ host: '127.0.0.1', port: 41414, address: '127.0.0.1:41414' }, 20_000, 20_000)
 * await client.appendBatch([{ headers: {}, body: Buffer.from('hello') }])
 */
export class AvroHostClient implements FlumeHostClient {
  readonly address: string
  private readonly service: Service
  private connection: { socket: Socket; client: Service.Client; lost?: Error } | undefined

  constructor(
    private readonly host: FlumeHost,
    private readonly connectTimeoutMs: number,
    private readonly requestTimeoutMs: number,
  ) {
    this.address = host.address
    this.service = avroSourceService('flumeSink')
  }

  async appendBatch(events: readonly AvroFlumeEvent[]): Promise<void> {
    const connection = this.connection ?? (await this.connect())
    let status: AvroStatus
    try {
      status = await new Promise<AvroStatus>((resolve, reject) => {
        connection.client.emitMessage<AvroStatus>(
          'appendBatch',
          { events },
          { timeout: this.requestTimeoutMs },
          (error, answer) => (error ? reject(error) : resolve(answer as AvroStatus)),
        )
      })
    } catch (error) {
      this.drop(connection)
      const timedOut = /timeout/i.test(messageOf(error)) && connection.lost === undefined
      throw new HostFailure(
        timedOut ? 'timeout' : 'lost',
        this.address,
        timedOut
          ? `no answer within ${this.requestTimeoutMs} ms`
          : `connection lost: ${messageOf(connection.lost ?? error)}`,
        { cause: error },
      )
    }
    if (status !== 'OK') throw new HostFailure('refused', this.address, `appendBatch answered ${status}`)
  }

  close(): void {
    if (this.connection !== undefined) this.drop(this.connection)
  }

  private async connect(): Promise<NonNullable<AvroHostClient['connection']>> {
    const socket = connect({ host: this.host.host, port: this.host.port, noDelay: true })
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`not connected within ${this.connectTimeoutMs} ms`)),
          this.connectTimeoutMs,
        )
        socket.once('connect', () => {
          clearTimeout(timer)
          resolve()
        })
        socket.once('error', (error) => {
          clearTimeout(timer)
          reject(error)
        })
      })
    } catch (error) {
      socket.destroy()
      throw new HostFailure('connect', this.address, messageOf(error), { cause: error })
    }
    socket.setNoDelay(true)
    const client = this.service.createClient({ timeout: this.requestTimeoutMs })
    const connection: NonNullable<AvroHostClient['connection']> = { socket, client }
    socket.on('error', (error) => {
      connection.lost ??= error
    })
    socket.once('close', () => {
      connection.lost ??= new Error('closed by the agent')
      if (this.connection === connection) this.connection = undefined
    })
    client.createChannel(socket)
    this.connection = connection
    return connection
  }

  private drop(connection: NonNullable<AvroHostClient['connection']>): void {
    if (this.connection === connection) this.connection = undefined
    connection.client.destroyChannels({ noWait: true })
    connection.socket.destroy()
  }
}
