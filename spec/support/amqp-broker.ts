import { execFile } from 'node:child_process'
import * as assert from 'uvu/assert'
import {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type Options,
  connect,
} from 'amqplib'
import type { Source, SourceReader, SourceReaderContext } from '../../lib/runtime/source.js'
import { waitFor } from './wait-for.js'
import { coordinatorOnly, passValue, replayedTest } from './worker-pass/pass-context.js'

/** The machine's shared RabbitMQ (scripts/services.d starts it); SLUICE_AMQP_URL overrides. */
export const AMQP_URL = process.env.SLUICE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

let counter = 0

/**
 * A queue, exchange or connection name no other test run uses.
 *
 * @example
 * const queue = uniqueName('src') // 'sluice-src-4711-lq3k2-0'
 */
export function uniqueName(prefix: string): string {
  // the worker-executor test pass: a worker replaying the test gets the coordinator's name
  return passValue(() => `sluice-${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`)
}

/** What {@link AmqpAdmin.publish} sends: the body and the properties of message i. */
export interface PublishPlan {
  readonly body?: (i: number) => Buffer | string
  readonly properties?: (i: number) => Options.Publish
}

/**
 * The test's own connection to a real RabbitMQ broker: declares and deletes queues and exchanges,
 * publishes with confirms, reads queues back, counts messages. Never a mock. In a worker of the
 * worker-executor test pass replaying a test it has no connection and does nothing (`coordinatorOnly`):
 * the coordinator's admin did it, and publishing twice would double the test's input.
 *
 * @example
 * const admin = await AmqpAdmin.open()
 * await admin.queue(q); await admin.publish(q, 1000); await admin.close()
 */
export class AmqpAdmin {
  private constructor(
    private readonly connection: { model: ChannelModel; channel: ConfirmChannel } | undefined,
    private readonly declared: string[],
    private readonly exchanges: string[],
  ) {}

  static async open(url = AMQP_URL): Promise<AmqpAdmin> {
    if (replayedTest() !== undefined) return new AmqpAdmin(undefined, [], [])
    const model = await connect(url, { clientProperties: { connection_name: 'sluice-spec-admin' } })
    model.on('error', () => {})
    const channel = await model.createConfirmChannel()
    channel.on('error', () => {})
    return new AmqpAdmin({ model, channel }, [], [])
  }

  private get model(): ChannelModel {
    return this.connection!.model
  }

  /** The admin's channel (on the coordinator only). */
  get channel(): ConfirmChannel {
    return this.connection!.channel
  }

  /** Declares a durable queue (deleted again by `close`). */
  queue(name: string, options: Options.AssertQueue = {}): Promise<string> {
    return coordinatorOnly(async () => {
      await this.channel.assertQueue(name, { durable: true, ...options })
      this.declared.push(name)
      return name
    }, name)
  }

  /** Declares a durable exchange (deleted again by `close`). */
  exchange(name: string, type: 'direct' | 'fanout' | 'topic' = 'direct'): Promise<string> {
    return coordinatorOnly(async () => {
      await this.channel.assertExchange(name, type, { durable: true })
      this.exchanges.push(name)
      return name
    }, name)
  }

  bind(queue: string, exchange: string, routingKey: string): Promise<void> {
    return coordinatorOnly(async () => void (await this.channel.bindQueue(queue, exchange, routingKey)), undefined)
  }

  /** Publishes `count` persistent messages to `queue` (default exchange), waiting for every confirm. */
  publish(queue: string, count: number, plan: PublishPlan = {}, from = 0): Promise<void> {
    return coordinatorOnly(() => this.send(queue, count, plan, from), undefined)
  }

  private async send(queue: string, count: number, plan: PublishPlan, from: number): Promise<void> {
    const body = plan.body ?? ((i: number) => `m${i}`)
    for (let i = from; i < from + count; i++) {
      const b = body(i)
      const ok = this.channel.sendToQueue(queue, typeof b === 'string' ? Buffer.from(b) : b, {
        persistent: true,
        ...plan.properties?.(i),
      })
      if (!ok) await new Promise<void>((resolve) => this.channel.once('drain', () => resolve()))
      if ((i - from) % 2000 === 1999) await this.channel.waitForConfirms()
    }
    await this.channel.waitForConfirms()
  }

  /** Ready messages in the queue (not those delivered and unacknowledged). */
  count(queue: string): Promise<number> {
    return coordinatorOnly(async () => (await this.channel.checkQueue(queue)).messageCount, 0)
  }

  /**
   * Consumes and acknowledges every message `queue` holds now (its ready count, asked of the broker): for
   * a queue that nothing else consumes or fills any more, e.g. a sink's output after its job ended. Exact
   * where {@link drain} without `expected` stops at the first pause.
   *
   * @example
   * const published = await admin.drainAll(output)
   */
  async drainAll(queue: string): Promise<ConsumeMessage[]> {
    const count = await this.count(queue)
    return count === 0 ? [] : this.drain(queue, count)
  }

  /**
   * Consumes and acknowledges messages of `queue` until `expected` arrived (or, without `expected`, until
   * none came for `idleMs`); returns them in delivery order.
   */
  drain(
    queue: string,
    expected?: number,
    options: { timeoutMs?: number; idleMs?: number } = {},
  ): Promise<ConsumeMessage[]> {
    return coordinatorOnly(() => this.consume(queue, expected, options), [])
  }

  private async consume(
    queue: string,
    expected: number | undefined,
    options: { timeoutMs?: number; idleMs?: number },
  ): Promise<ConsumeMessage[]> {
    const { timeoutMs = 15_000, idleMs = 300 } = options
    const channel: Channel = await this.model.createChannel()
    channel.on('error', () => {})
    const got: ConsumeMessage[] = []
    try {
      await channel.prefetch(1000)
      await new Promise<void>((resolve, reject) => {
        let idle: NodeJS.Timeout | undefined
        const deadline = setTimeout(
          () =>
            expected === undefined
              ? resolve()
              : reject(new Error(`drain ${queue}: ${got.length} of ${expected} messages within ${timeoutMs} ms`)),
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
        void channel.consume(queue, (m) => {
          if (m === null) return
          got.push(m)
          channel.ack(m)
          if (expected !== undefined && got.length >= expected) done()
          else arm()
        })
      })
    } finally {
      await channel.close().catch(() => {})
    }
    return got
  }

  /** Closes the connection and leaves the queues and exchanges in place (`close` deletes them). */
  disconnect(): Promise<void> {
    return coordinatorOnly(async () => void (await this.model.close().catch(() => {})), undefined)
  }

  /** Deletes what this admin declared and closes its connection. */
  close(): Promise<void> {
    return coordinatorOnly(async () => {
      for (const q of this.declared) await this.channel.deleteQueue(q).catch(() => {})
      for (const x of this.exchanges) await this.channel.deleteExchange(x).catch(() => {})
      await this.model.close().catch(() => {})
    }, undefined)
  }
}

/**
 * Runs `rabbitmqctl` (the broker's management CLI) against `node` (default: the shared one).
 *
 * @example
 * await rabbitmqctl(['list_queues'])
 */
export function rabbitmqctl(args: readonly string[], node?: string): Promise<string> {
  const full = node === undefined ? [...args] : ['-n', node, ...args]
  // a worker replaying a test: the coordinator runs it (it may close connections or stop the broker)
  return coordinatorOnly(
    () =>
      new Promise((resolve, reject) => {
        execFile('rabbitmqctl', full, { timeout: 30_000 }, (error, stdout, stderr) => {
          if (error !== null) reject(new Error(`rabbitmqctl ${full.join(' ')} failed: ${stderr || error.message}`))
          else resolve(stdout)
        })
      }),
    '',
  )
}

/**
 * The broker's own count of messages delivered from `queue` and not yet acknowledged.
 *
 * @example
 * assert.ok(await unacknowledgedOnBroker(queue) <= prefetch)
 */
export async function unacknowledgedOnBroker(queue: string, node?: string): Promise<number> {
  const out = await rabbitmqctl(
    ['list_queues', '--quiet', '--no-table-headers', 'name', 'messages_unacknowledged'],
    node,
  )
  for (const line of out.split('\n')) {
    const [name, count] = line.split('\t')
    if (name === queue) return Number(count)
  }
  if (replayedTest() !== undefined) return 0
  throw new Error(`queue ${queue} not listed by rabbitmqctl`)
}

/**
 * Closes, from the broker's side (`rabbitmqctl close_connection`), every connection whose client
 * property `connection_name` is `name`; returns how many it closed.
 *
 * @example
 * await closeConnectionsNamed('sluice rabbitmqSource q') // the connector sees 320 CONNECTION_FORCED
 */
export async function closeConnectionsNamed(name: string, node?: string): Promise<number> {
  const out = await rabbitmqctl(['list_connections', '--quiet', '--no-table-headers', 'pid', 'client_properties'], node)
  const pids = out
    .split('\n')
    .filter((line) => line.includes(`{"connection_name","${name}"}`))
    .map((line) => line.split('\t')[0]!)
  for (const pid of pids) await rabbitmqctl(['close_connection', pid, 'sluice spec: forced close'], node)
  return pids.length
}

/**
 * Wraps a source so that a test can watch every reader the runtime creates (one per subtask and per
 * restart, in creation order): their counters show prefetch bounds, reconnections and duplicates.
 *
 * @example
 * const { source, readers } = recordReaders(new RabbitMQSource({ queue }))
 * env.fromSource(source); … ; readers[0].maxUnacknowledged
 */
export function recordReaders<T, S, R extends SourceReader<T, S>>(
  inner: Source<T, S> & { createReader(context: SourceReaderContext, restored?: S[]): R },
): { source: Source<T, S>; readers: R[] } {
  const readers: R[] = []
  const source: Source<T, S> = {
    name: inner.name,
    bounded: inner.bounded,
    maxParallelism: inner.maxParallelism,
    restoredSplits: inner.restoredSplits,
    commitsOnCheckpoint: inner.commitsOnCheckpoint,
    createReader(context, restored) {
      const reader = inner.createReader(context, restored) as R
      readers.push(reader)
      return reader
    },
  }
  return { source, readers }
}

/**
 * Resolves once the asynchronous `predicate` holds (asked every `intervalMs`, default 20 ms), rejects
 * after `timeoutMs` (default 10 s): for conditions only the broker can answer (a queue's count). In
 * a worker replaying the test, as `coordinatorOnly`: the coordinator saw the condition.
 *
 * @example
 * await waitUntil(async () => (await admin.count(queue)) === 0, { description: 'queue drained' })
 */
export function waitUntil(
  predicate: () => Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; description?: string } = {},
): Promise<void> {
  return coordinatorOnly(() => pollUntil(predicate, options), undefined)
}

async function pollUntil(
  predicate: () => Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; description?: string },
): Promise<void> {
  const { timeoutMs = 10_000, intervalMs = 20, description = 'condition' } = options
  const deadline = performance.now() + timeoutMs
  while (!(await predicate())) {
    if (performance.now() >= deadline) throw new Error(`waitUntil: not true within ${timeoutMs} ms: ${description}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * Watches a running job's result, so that a job that fails while a test waits for something else is
 * reported at once (`check()` throws its error) instead of crashing the process as an unhandled
 * rejection.
 *
 * @example
 * const watch = watchJob(job)
 * await waitFor(() => watch.check() && ledger.committed.length === n)
 */
export function watchJob(job: { readonly result: Promise<unknown> }): { check(): true; readonly error: unknown } {
  const state: { error: unknown; failed: boolean } = { error: undefined, failed: false }
  job.result.catch((error: unknown) => {
    state.failed = true
    state.error = error
  })
  return {
    check: () => {
      if (state.failed) throw state.error
      return true
    },
    get error() {
      return state.error
    },
  }
}

/**
 * The metrics of every subtask of the operator `uid` in the job's current deployment (a reader's
 * `unacknowledged`, `connections`, `maxUnacknowledged`, …), by subtask: read from `job.metrics()`, so
 * the same on both executors (a worker reports its subtasks' metrics to the coordinator every 200 ms).
 *
 * @example
 * await waitFor(() => operatorMetrics(job, 'src').every((m) => m.unacknowledged === 0))
 */
export function operatorMetrics(
  job: { metrics(): { details: readonly { operator: string; metrics: Readonly<Record<string, unknown>> }[] } },
  uid: string,
): Readonly<Record<string, number>>[] {
  return job
    .metrics()
    .details.filter((d) => d.operator === uid)
    .map((d) => d.metrics as Readonly<Record<string, number>>)
}

/**
 * Waits until a queue-to-queue job (source uid 'src', sink uid 'out') has read, acknowledged, sent
 * and had confirmed `n` messages, then checks that the reader's and the writer's counters reached
 * `job.metrics().details` under the connector's label, on one connection each, and that no more
 * messages waited unacknowledged than the window (starting at `prefetch`) allowed.
 *
 * @example
 * await checkQueueMetrics(job, 'rabbitmq', 300, 100)
 */
export async function checkQueueMetrics(
  job: {
    readonly result: Promise<unknown>
    metrics(): { details: readonly { operator: string; metrics: Readonly<Record<string, unknown>> }[] }
  },
  connector: string,
  n: number,
  prefetch: number,
): Promise<void> {
  const watch = watchJob(job)
  const metricsOf = (uid: string): Readonly<Record<string, unknown>> =>
    job.metrics().details.find((d) => d.operator === uid)?.metrics ?? {}
  await waitFor(() => watch.check() && metricsOf('src').acknowledged === n && metricsOf('out').unconfirmed === 0, {
    timeoutMs: 20_000,
    description: 'every message read, acknowledged, sent and confirmed',
  })
  const src = metricsOf('src')
  const max = src.maxUnacknowledged as number
  assert.equal(
    {
      connector: src.connector,
      unacknowledged: src.unacknowledged,
      duplicates: src.duplicates,
      connections: src.connections,
    },
    { connector, unacknowledged: 0, duplicates: 0, connections: 1 },
  )
  // The window starts at the prefetch and may grow (RabbitMQ's does by default). A change starts a new
  // consumer while the old one's deliveries still wait for their checkpoint (AckWindow's contract), so
  // what waits unacknowledged never exceeds two windows: the old one's and the new one's.
  const window = src.maxWindow as number
  assert.ok(window >= prefetch, `maxWindow ${window} starts at the prefetch ${prefetch}`)
  assert.ok(max > 0 && max <= 2 * window, `maxUnacknowledged ${max} within two of the largest window ${window}`)
  const out = metricsOf('out')
  assert.equal(
    { connector: out.connector, sent: out.sent, connections: out.connections },
    { connector, sent: n, connections: 1 },
  )
}
