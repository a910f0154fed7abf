import { type Counter, MetricGroup } from '../../runtime/metric-group.js'
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import { Deferred } from '../../util/deferred.js'

/** How a {@link BatchingWriter} batches, after validation. */
export interface BatchingSettings {
  /** Records per request: a batch this full is sent at once. */
  readonly maxBatchRecords: number
  /** How long a partial batch waits for more records (on the processing-time service). */
  readonly lingerMs: number
  /** Records written and not yet acknowledged before `ready()` asks the runtime to wait. */
  readonly maxInFlightRecords: number
  /** A barrier waits until every record before it is acknowledged (at-least-once); else it only sends. */
  readonly flushOnBarrier: boolean
  /** Requests sent at once, started in write order (each waits for a free slot); default 1. */
  readonly maxInFlightRequests?: number
}

/**
 * The part of a batching sink writer that is not the client's own (Flink's AsyncSinkWriter): records
 * collect in a batch, sent when it holds `maxBatchRecords` or `lingerMs` after its first record; up to
 * `maxInFlightRequests` requests at a time (default 1), started in write order; `ready()` holds the runtime back while `maxInFlightRecords` records wait
 * for acknowledgement and lets it go on at half of that; a barrier flushes and waits (at-least-once);
 * the first failure fails every later call.
 *
 * A connector writes what is its own: `addToBatch` (serialize one value into its batch; it may call
 * `send()` first when the value would overflow a byte limit), `takeBatch`, `sendBatch` (one request,
 * retried as the client needs; it may acknowledge records of a partial answer early) and
 * `toFailure` (the error the job fails with).
 *
 * Threading: everything runs on the event loop; `write` is synchronous and allocates only what the
 * connector's batch needs. Bounds: at most `maxInFlightRecords` plus the records written after
 * `ready()` last answered undefined (the runtime's batch) are buffered or in flight.
 *
 * @example
 * class LogWriter extends BatchingWriter<string, string[]> {
 *   private lines: string[] = []
 *   protected addToBatch(value: string) { this.lines.push(value) }
 *   protected takeBatch() { const b = this.lines; this.lines = []; return b }
 *   protected async sendBatch(batch: string[]) { await appendLines(batch) }
 *   protected toFailure(error: unknown) { return new ConnectorError('ERR_SEND', messageOf(error)) }
 * }
 */
export abstract class BatchingWriter<T, B> implements SinkWriter<T> {
  /** Settles when the batch sent last has started (got its slot), or the connection opened. */
  private chain: Promise<void> = Promise.resolve()
  /** Requests started or waiting for a slot; each settles (never rejects) when its batch is done. */
  private readonly requestsPending = new Set<Promise<void>>()
  private requestsRunning = 0
  private slotFreed: Deferred | undefined
  private batched = 0
  private inFlight = 0
  private cancelLinger: (() => void) | undefined
  private waiting: Deferred | undefined
  protected failure: Error | undefined
  /** The writer's counters (the job's metrics): `requests`, `inFlightRecords` and the connector's own. */
  protected readonly metrics: MetricGroup
  /** Count one per request sent (a retried request included). */
  protected readonly requests: Counter

  constructor(
    protected readonly context: SinkWriterContext,
    private readonly batching: BatchingSettings & { readonly connector: string },
  ) {
    this.metrics = context.metrics ?? new MetricGroup(batching.connector)
    this.requests = this.metrics.counter('requests')
    this.metrics.gauge('inFlightRecords', () => this.inFlight)
  }

  /** Adds one value to the batch; may call `send()` first to start a new batch. */
  protected abstract addToBatch(value: T, timestamp: number | undefined): void
  /** Takes the batch out, leaving an empty one. */
  protected abstract takeBatch(): B
  /**
   * Sends one batch of `count` records; resolves when every record of it is acknowledged.
   * `acknowledgeEarly(n)` frees room for `n` records of a partial answer before the rest.
   */
  protected abstract sendBatch(batch: B, count: number, acknowledgeEarly: (n: number) => void): Promise<void>
  /** The error the writer fails with for a failure of the client. */
  protected abstract toFailure(error: unknown): Error

  /** Records written and not yet acknowledged. */
  get inFlightRecords(): number {
    return this.inFlight
  }

  write(value: T, timestamp: number | undefined): void {
    this.addToBatch(value, timestamp)
    this.batched++
    this.inFlight++
    if (this.batched >= this.batching.maxBatchRecords) this.send()
    else if (this.cancelLinger === undefined) {
      const clock = this.context.processingTime
      this.cancelLinger = clock.scheduleAt(clock.now() + this.batching.lingerMs, () => {
        this.cancelLinger = undefined
        this.send()
      })
    }
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.inFlight < this.batching.maxInFlightRecords) return undefined
    this.send()
    this.waiting ??= new Deferred()
    return this.waiting.promise
  }

  async flush(): Promise<void> {
    this.send()
    await this.chain
    await Promise.all(this.requestsPending)
    if (this.failure !== undefined) throw this.failure
  }

  /** The barrier: with `flushOnBarrier` every record written before it is acknowledged; else it is sent. */
  async snapshotState(): Promise<unknown[]> {
    if (this.batching.flushOnBarrier) await this.flush()
    else this.send()
    return []
  }

  async close(): Promise<void> {
    this.stopLinger()
    await this.chain.catch(() => undefined)
    await Promise.all(this.requestsPending)
  }

  /** Runs `opening` (connecting the client) before the first request; its failure fails the writer. */
  protected openWith(opening: Promise<void>): void {
    opening.catch((error) => this.fail(error))
    this.chain = opening.catch(() => undefined)
  }

  /**
   * Hands the batch to `sendBatch` once the batches before it have started and fewer than
   * `maxInFlightRequests` requests run (start order is write order).
   */
  protected send(): void {
    this.stopLinger()
    if (this.batched === 0 || this.failure !== undefined) return
    const count = this.batched
    const batch = this.takeBatch()
    this.batched = 0
    const previous = this.chain
    let started!: () => void
    this.chain = new Promise<void>((resolve) => (started = resolve))
    const request = this.sendInTurn(previous, started, batch, count)
    this.requestsPending.add(request)
    void request.then(() => this.requestsPending.delete(request))
  }

  private async sendInTurn(previous: Promise<void>, started: () => void, batch: B, count: number): Promise<void> {
    await previous
    // Starts are serialized by `previous`, so at most one request waits for a slot at a time.
    while (this.requestsRunning >= (this.batching.maxInFlightRequests ?? 1))
      await (this.slotFreed = new Deferred()).promise
    this.requestsRunning++
    started()
    let acknowledgedEarly = 0
    try {
      if (this.failure !== undefined) return
      await this.sendBatch(batch, count, (n) => {
        acknowledgedEarly += n
        this.acknowledge(n)
      })
      this.acknowledge(count - acknowledgedEarly)
    } catch (error) {
      this.fail(error)
    } finally {
      this.requestsRunning--
      this.slotFreed?.resolve()
      this.slotFreed = undefined
    }
  }

  protected fail(error: unknown): void {
    if (this.failure !== undefined) return
    this.failure = this.toFailure(error)
    this.waiting?.resolve()
    this.waiting = undefined
  }

  private acknowledge(n: number): void {
    this.inFlight -= n
    if (this.waiting !== undefined && this.inFlight <= this.batching.maxInFlightRecords >> 1) {
      this.waiting.resolve()
      this.waiting = undefined
    }
  }

  private stopLinger(): void {
    this.cancelLinger?.()
    this.cancelLinger = undefined
  }
}
