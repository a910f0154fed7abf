import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net'
import { Client, type IMessage, type StompHeaders } from '@stomp/stompjs'
import { TCPWrapper } from '@stomp/tcp-wrapper'
import { coordinatorOnly, passValue, replayedTest } from './worker-pass/pass-context.js'

/** The machine's ActiveMQ STOMP transport (scripts/services.d starts it); SLUICE_STOMP_HOST/PORT override. */
export const STOMP_HOST = process.env.SLUICE_STOMP_HOST ?? '127.0.0.1'
export const STOMP_PORT = Number(process.env.SLUICE_STOMP_PORT ?? 61613)

let counter = 0
/** Every queue {@link uniqueDestination} named in this process, for {@link StompAdmin.cleanup}. */
const named: string[] = []

/**
 * A destination name no other test run uses.
 *
 * @example
 * uniqueDestination('queue', 'src') // '/queue/sluice-src-4711-lq3k2-0'
 */
export function uniqueDestination(kind: 'queue' | 'topic', prefix: string): string {
  // the worker-executor test pass: a worker replaying the test gets the coordinator's name
  const destination = passValue(
    () => `/${kind}/sluice-${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`,
  )
  if (kind === 'queue') named.push(destination)
  return destination
}

/** What {@link StompAdmin.publish} sends: the body and the headers of message i. */
export interface StompPublishPlan {
  readonly body?: (i: number) => string
  readonly headers?: (i: number) => StompHeaders
}

/**
 * The test's own STOMP connection to the real ActiveMQ broker (the plain stompjs client, not the code
 * under test): publishes persistent messages with receipts, and reads destinations back. In a worker
 * of the worker-executor test pass replaying a test it has no connection and does nothing
 * (`coordinatorOnly`): the coordinator's admin did it, and publishing twice would double the input.
 *
 * @example
 * const admin = await StompAdmin.open(); await admin.publish('/queue/q', 1000); await admin.close()
 */
export class StompAdmin {
  private receipts = 0

  private constructor(private readonly connection: Client | undefined) {}

  private get client(): Client {
    return this.connection!
  }

  static open(host = STOMP_HOST, port = STOMP_PORT, connectHeaders: StompHeaders = {}): Promise<StompAdmin> {
    if (replayedTest() !== undefined) return Promise.resolve(new StompAdmin(undefined))
    return new Promise((resolve, reject) => {
      const client = new Client({
        webSocketFactory: () => new TCPWrapper(host, port),
        reconnectDelay: 0,
        connectHeaders,
        debug: () => {},
      })
      client.onConnect = () => resolve(new StompAdmin(client))
      client.onStompError = (frame) => reject(new Error(`STOMP ERROR ${frame.headers.message}`))
      client.onWebSocketClose = () => reject(new Error(`no STOMP connection to ${host}:${port}`))
      client.activate()
    })
  }

  /** Sends `count` persistent messages and waits for the receipt of the last (the broker handles frames in order). */
  publish(destination: string, count: number, plan: StompPublishPlan = {}, from = 0): Promise<void> {
    return coordinatorOnly(() => this.send(destination, count, plan, from), undefined)
  }

  private async send(destination: string, count: number, plan: StompPublishPlan, from: number): Promise<void> {
    const body = plan.body ?? ((i: number) => `m${i}`)
    for (let i = from; i < from + count; i++) {
      const last = i === from + count - 1 || (i - from) % 1000 === 999
      const headers: StompHeaders = { persistent: 'true', ...plan.headers?.(i) }
      if (!last) {
        this.client.publish({ destination, body: body(i), headers })
        continue
      }
      const receipt = `admin-${this.receipts++}`
      await new Promise<void>((resolve) => {
        this.client.watchForReceipt(receipt, () => resolve())
        this.client.publish({ destination, body: body(i), headers: { ...headers, receipt } })
      })
    }
  }

  /**
   * Reads `destination` (client-individual acks) until `expected` messages arrived, or — without
   * `expected` — until none came for `idleMs`; returns them in order.
   */
  drain(
    destination: string,
    expected?: number,
    options: { timeoutMs?: number; idleMs?: number; headers?: StompHeaders } = {},
  ): Promise<IMessage[]> {
    return coordinatorOnly(() => this.read(destination, expected, options), [])
  }

  private async read(
    destination: string,
    expected: number | undefined,
    options: { timeoutMs?: number; idleMs?: number; headers?: StompHeaders },
  ): Promise<IMessage[]> {
    const { timeoutMs = 15_000, idleMs = 400 } = options
    const got: IMessage[] = []
    let subscription: { unsubscribe(): void } | undefined
    await new Promise<void>((resolve, reject) => {
      let idle: NodeJS.Timeout | undefined
      const deadline = setTimeout(
        () =>
          expected === undefined
            ? resolve()
            : reject(new Error(`drain ${destination}: ${got.length} of ${expected} within ${timeoutMs} ms`)),
        timeoutMs,
      )
      const done = (): void => {
        clearTimeout(deadline)
        clearTimeout(idle)
        resolve()
      }
      const arm = (): void => {
        if (expected !== undefined) return
        clearTimeout(idle)
        idle = setTimeout(done, idleMs)
      }
      arm()
      subscription = this.client.subscribe(
        destination,
        (m) => {
          got.push(m)
          m.ack()
          if (expected !== undefined && got.length >= expected) done()
          else arm()
        },
        { ack: 'client-individual', 'activemq.prefetchSize': '1000', ...options.headers },
      )
    })
    subscription?.unsubscribe()
    return got
  }

  close(): Promise<void> {
    return coordinatorOnly(async () => void (await this.client.deactivate().catch(() => {})), undefined)
  }

  /**
   * Reads away whatever is left in every queue named by {@link uniqueDestination} in this process (a
   * failed test, an unfinished checkpoint): ActiveMQ runs with `persistent="false"` and a 256 MB heap,
   * so messages left behind would pile up in its memory across runs. Call it in a suite's `after`.
   */
  cleanup(): Promise<number> {
    return coordinatorOnly(() => this.readAway(), 0)
  }

  private async readAway(): Promise<number> {
    let left = 0
    for (const destination of named.splice(0))
      left += (await this.drain(destination, undefined, { idleMs: 100 })).length
    return left
  }

  /**
   * Removes a durable topic subscription (it must be inactive), so that the broker stops keeping
   * messages for it: UNSUBSCRIBE with `activemq.subscriptionName` on a connection with its client id.
   */
  static async removeDurableSubscription(
    clientId: string,
    subscriptionName: string,
    host = STOMP_HOST,
    port = STOMP_PORT,
  ): Promise<void> {
    if (replayedTest() !== undefined) return coordinatorOnly(async () => {}, undefined)
    const admin = await StompAdmin.open(host, port, { 'client-id': clientId })
    try {
      await new Promise<void>((resolve) => {
        admin.client.watchForReceipt('unsubscribed', () => resolve())
        admin.client.unsubscribe(subscriptionName, {
          'activemq.subscriptionName': subscriptionName,
          receipt: 'unsubscribed',
        })
      })
    } finally {
      await admin.close()
    }
  }
}

/**
 * A TCP relay in front of the broker that a test can cut: every relayed connection is destroyed at
 * once (`cut()`), as a network failure or a broker dropping its clients would, while the real broker
 * behind it keeps running. New connections are relayed again right away. In the worker-executor test
 * pass the relay runs on the coordinator only: a worker replaying the test gets its port (`passValue`)
 * and relays nothing itself, so the job's connections go through the relay the test cuts.
 *
 * @example
 * const proxy = await TcpCutter.start(61613)
 * new ActiveMQSource({ port: proxy.port, destination }); …; proxy.cut()
 */
export class TcpCutter {
  private readonly pairs = new Set<[Socket, Socket]>()
  /** How many connections were cut. */
  cuts = 0
  /** How many connections were relayed (reconnections included). */
  accepted = 0

  private constructor(
    private readonly server: Server | undefined,
    readonly port: number,
  ) {}

  static start(targetPort = STOMP_PORT, targetHost = STOMP_HOST): Promise<TcpCutter> {
    if (replayedTest() !== undefined)
      return Promise.resolve(new TcpCutter(undefined, Number(passValue(() => 'no relay port of the coordinator'))))
    return new Promise((resolve) => {
      let cutter: TcpCutter
      const server = createServer((client) => {
        cutter.accepted++
        const upstream = tcpConnect({ host: targetHost, port: targetPort })
        const pair: [Socket, Socket] = [client, upstream]
        cutter.pairs.add(pair)
        client.pipe(upstream)
        upstream.pipe(client)
        const end = (): void => {
          cutter.pairs.delete(pair)
          client.destroy()
          upstream.destroy()
        }
        client.on('error', end).on('close', end)
        upstream.on('error', end).on('close', end)
      })
      server.listen(0, '127.0.0.1', () => {
        const port = (server.address() as { port: number }).port
        passValue(() => String(port))
        cutter = new TcpCutter(server, port)
        resolve(cutter)
      })
    })
  }

  /** Destroys every relayed connection now; returns how many. */
  cut(): number {
    const n = this.pairs.size
    for (const [client, upstream] of this.pairs) {
      client.destroy()
      upstream.destroy()
    }
    this.pairs.clear()
    this.cuts += n
    return n
  }

  async stop(): Promise<void> {
    this.cut()
    const server = this.server
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
