import type { RedisSinkParts } from './options.js'
import { ConnectorError, messageOf } from '../../errors.js'
import type { SinkWriter } from '../../runtime/sink.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import type { MetricGroup } from '../../runtime/metric-group.js'
import { ioredis, RedisLink } from './connection.js'
import { type CommandLine, commandLine } from './mapper.js'

/**
 * The writer of {@link RedisSink}: a pipeline being filled, the pipelines waiting for answers, and
 * the first failure. `commands`, `pipelines` and `resent` count what it sent; the job's metrics have
 * its `connections` gauge (more than one: it reconnected).
 *
 * @example
 * const writer = new RedisSink({ mapper }).createWriter(context)
 * writer.write(record, undefined)
 * await writer.snapshotState(1) // every command answered
 */
export class RedisSinkWriter<T> implements SinkWriter<T> {
  readonly link: RedisLink
  private batch: CommandLine[] = []
  private readonly inFlight = new Set<Promise<void>>()
  private failure: ConnectorError | undefined
  private cancelLinger: (() => void) | undefined
  private slotWaiters: (() => void)[] = []
  private readonly cluster: boolean
  /** Commands answered by Redis. */
  commands = 0
  /** Pipelines sent. */
  pipelines = 0
  /** Commands sent again because a dropped connection left them unanswered. */
  resent = 0

  constructor(
    private readonly sink: RedisSinkParts<T>,
    private readonly processingTime: ProcessingTimeService,
    metrics?: MetricGroup,
  ) {
    this.link = new RedisLink(sink.settings.connection, sink.settings.retry, 'redisSink')
    metrics?.gauge('connections', () => this.link.connections)
    this.cluster = this.link.client instanceof ioredis.get('redisSink').Cluster
    this.link.onFailure((error) => this.fail(error))
  }

  write(record: T, _timestamp?: number): void {
    if (this.failure !== undefined) throw this.failure
    const { settings, mapper } = this.sink
    this.batch.push(commandLine(mapper, record, settings.streamMaxLength))
    if (this.batch.length >= settings.maxPipelineCommands) this.send()
    else if (this.batch.length === 1 && this.cancelLinger === undefined) {
      this.cancelLinger = this.processingTime.scheduleAt(this.processingTime.now() + settings.lingerMs, () => {
        this.cancelLinger = undefined
        this.send()
      })
    }
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.inFlight.size < this.sink.settings.maxPipelinesInFlight) return undefined
    return new Promise<void>((resolve) => this.slotWaiters.push(resolve))
  }

  /** Sends what is buffered and waits for every answer; rejects with the first failure. */
  async flush(): Promise<void> {
    this.send()
    while (this.inFlight.size > 0) await Promise.all(this.inFlight)
    if (this.failure !== undefined) throw this.failure
  }

  /** On the barrier: everything written before it is answered (at-least-once); no state to keep. */
  async snapshotState(): Promise<unknown[]> {
    await this.flush()
    return []
  }

  /** Closes the connection; commands not flushed are dropped (the runtime flushes before a clean close). */
  async close(): Promise<void> {
    this.cancelLinger?.()
    this.cancelLinger = undefined
    this.batch = []
    await this.link.close()
  }

  private send(): void {
    this.cancelLinger?.()
    this.cancelLinger = undefined
    if (this.batch.length === 0 || this.failure !== undefined) return
    const batch = this.batch
    this.batch = []
    this.dispatch(batch)
  }

  private dispatch(batch: CommandLine[]): void {
    this.pipelines++
    const work = this.execute(batch).then(
      (results) => this.settle(batch, results),
      (error) =>
        this.fail(
          this.link.failure ??
            new ConnectorError(
              'ERR_REDIS_COMMAND',
              `redisSink ${this.link.address}: pipeline failed: ${messageOf(error)}`,
              { cause: error },
            ),
        ),
    )
    const done = work.finally(() => {
      this.inFlight.delete(done)
      const waiters = this.slotWaiters
      this.slotWaiters = []
      for (const resolve of waiters) resolve()
    })
    this.inFlight.add(done)
  }

  private async execute(batch: CommandLine[]): Promise<[Error | null, unknown][]> {
    const client = this.link.client
    if (!this.cluster) return ((await pipelineOf(client, batch).exec()) ?? []) as [Error | null, unknown][]
    // A cluster pipeline must target one node; auto-pipelining batches the commands per node instead.
    const settled = await Promise.allSettled(batch.map(([name, ...args]) => client.call(name, ...args)))
    return settled.map((s) => (s.status === 'fulfilled' ? [null, s.value] : [s.reason as Error, undefined]))
  }

  /** Counts the answers; sends again what a dropped connection aborted; fails on the first rejected command. */
  private settle(batch: CommandLine[], results: [Error | null, unknown][]): void {
    let again: CommandLine[] | undefined
    for (let i = 0; i < batch.length; i++) {
      const error = results[i]?.[0] ?? null
      if (error === null) {
        this.commands++
        continue
      }
      if (this.link.failure !== undefined) return this.fail(this.link.failure)
      if (isAborted(error)) {
        ;(again ??= []).push(batch[i]!)
        continue
      }
      const [name, key] = batch[i]!
      return this.fail(
        new ConnectorError(
          'ERR_REDIS_COMMAND',
          `redisSink ${this.link.address}: ${name} ${String(key)} was rejected: ${messageOf(error)}`,
          { cause: error },
        ),
      )
    }
    if (again !== undefined && this.failure === undefined) {
      this.resent += again.length
      this.dispatch(again)
    }
  }

  private fail(error: ConnectorError): void {
    this.failure ??= error
    const waiters = this.slotWaiters
    this.slotWaiters = []
    for (const resolve of waiters) resolve()
  }
}

function pipelineOf(client: RedisLink['client'], batch: CommandLine[]): ReturnType<RedisLink['client']['pipeline']> {
  const pipeline = client.pipeline()
  for (const [name, ...args] of batch) pipeline.call(name, ...args)
  return pipeline
}

/** A command the connection dropped before its answer (ioredis aborts the rest of a half-answered pipeline). */
function isAborted(error: Error): boolean {
  return error.name === 'AbortError' || /Command aborted|Connection is closed/.test(error.message)
}
