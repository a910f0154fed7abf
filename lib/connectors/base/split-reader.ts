import { createLogger, type Logger } from '../../logging.js'
import { Availability } from '../../runtime/availability.js'
import { type Counter, MetricGroup } from '../../runtime/metric-group.js'
import type { InputStatus, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { systemProcessingTime } from '../../time/processing-time.js'
import { SplitWatermarks } from '../../time/split-watermarks.js'
import type { WatermarkStrategy } from '../../time/watermark-strategy.js'
import { connectWithRetry } from './connect-retry.js'
import type { RetrySchedule } from './retry-options.js'
import type { SplitBuffer } from './split-buffer.js'

/** What {@link SplitReaderBase} needs to know of a connector's settings. */
export interface SplitReaderSettings<T> {
  /** The log's `connector` field, e.g. 'kafka-source'. */
  readonly connector: string
  /** What a split is called in log lines: 'partition', 'shard'. */
  readonly splitName: string
  /** Elements fetched and not yet emitted before fetching pauses. */
  readonly maxBufferedRecords: number
  /** Look for new splits this often; 0: never. */
  readonly discoveryIntervalMs: number
  readonly watermarks: WatermarkStrategy<T> | undefined
  readonly watermarkIntervalMs: number
}

/**
 * The part of a split-based source reader that is not the connector's own (Flink's SourceReaderBase):
 * per-split buffers handed out one element at a time, rotating over the splits after each fetched
 * chunk so one busy split does not starve the others; a bound on what is buffered, with fetching
 * paused while it is reached and woken at half of it; per-split watermarks; periodic split discovery
 * and watermark ticks on the processing-time service; availability and the first failure.
 *
 * A connector writes fetching and split state: it hands fetched chunks to `enqueue`, asks `hasRoom()`
 * before fetching, turns one element into a value in `emitRecord` (calling `collect`), and says in
 * `discoverSplits` which splits it takes.
 *
 * Threading: everything runs on the event loop; fetch callbacks and timers only enqueue, signal or
 * fail, and `pollNext` is the only place that emits. Bounds: at most `maxBufferedRecords` plus one
 * fetch answer per fetcher are buffered; `pollNext` allocates nothing of its own per element.
 *
 * @example
 * class MyReader extends SplitReaderBase<string, MySplit, SplitBuffer<Line>, Line> {
 *   protected emitRecord(split: SplitBuffer<Line>, line: Line, output: SourceOutput<string>) {
 *     this.collect(output, split.key, line.text, line.time)
 *   }
 *   // … wakeFetchers, discoverSplits, start, snapshotState
 * }
 */
export abstract class SplitReaderBase<T, Split, S extends SplitBuffer<E>, E> implements SourceReader<T, Split> {
  protected readonly log: Logger
  protected readonly available = new Availability()
  protected readonly watermarks: SplitWatermarks<T> | undefined
  /** The splits with buffered elements, in the order they are read. */
  private readonly ready: S[] = []
  private buffered = 0
  private pausedForRoom = false
  private discovering = false
  private cancelDiscovery: (() => void) | undefined
  private cancelTick: (() => void) | undefined
  protected closed = false
  protected failure: Error | undefined
  /** The reader's counters (the job's metrics): `fetchPauses`, `discoveries`, `bufferedRecords` and the connector's own. */
  protected readonly metrics: MetricGroup
  private readonly fetchPauses: Counter
  private readonly discoveryRuns: Counter

  constructor(
    protected readonly context: SourceReaderContext,
    private readonly base: SplitReaderSettings<T>,
  ) {
    this.log = (context.logger ?? createLogger()).child({ connector: base.connector, subtask: context.subtask })
    this.watermarks =
      base.watermarks === undefined ? undefined : new SplitWatermarks(base.watermarks, context.processingTime)
    this.metrics = context.metrics ?? new MetricGroup(base.connector)
    this.fetchPauses = this.metrics.counter('fetchPauses')
    this.discoveryRuns = this.metrics.counter('discoveries')
    this.metrics.gauge('bufferedRecords', () => this.buffered)
  }

  abstract start(): void | Promise<void>
  abstract snapshotState(checkpointId: number): Split[]

  /** Turns one fetched element into a value and emits it with `collect`. */
  protected abstract emitRecord(split: S, element: E, output: SourceOutput<T>): void

  /** The buffer has room again after it was full: let the paused fetchers go on. */
  protected abstract wakeFetchers(): void

  /** Finds the splits and takes the new ones this subtask owns (`initial`: the first look at start). */
  protected abstract discoverSplits(initial: boolean): Promise<void>

  /** After an element of `split` was emitted: a split read to its end is done here. */
  protected afterEmit(_split: S, _output: SourceOutput<T>): void {}

  /** What `pollNext` answers when nothing is buffered. */
  protected idleStatus(): InputStatus {
    return 'nothing-available'
  }

  /** Elements fetched and not yet emitted. */
  get bufferedRecords(): number {
    return this.buffered
  }

  pollNext(output: SourceOutput<T>): InputStatus {
    if (this.failure !== undefined) throw this.failure
    if (this.watermarks?.pending) this.watermarks.emit(output)
    const split = this.ready[0]
    if (split === undefined) return this.idleStatus()
    const chunk = split.chunks[0]!
    const element = chunk[split.head++]!
    if (split.head === chunk.length) {
      split.chunks.shift()
      split.head = 0
      // Rotate after each fetched chunk so one busy split does not starve the others.
      this.ready.shift()
      if (split.chunks.length > 0) this.ready.push(split)
      else split.queued = false
    }
    split.buffered--
    this.buffered--
    this.emitRecord(split, element, output)
    this.afterEmit(split, output)
    if (this.pausedForRoom && this.buffered <= this.base.maxBufferedRecords >> 1) {
      this.pausedForRoom = false
      this.wakeFetchers()
    }
    if (this.watermarks?.pending) this.watermarks.emit(output)
    return this.buffered > 0 ? 'more' : this.idleStatus()
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  close(): void | Promise<void> {
    this.closed = true
    this.cancelDiscovery?.()
    this.cancelTick?.()
  }

  /** Emits a value of `splitKey`, its timestamp taken through the split's watermark generator. */
  protected collect(output: SourceOutput<T>, splitKey: string, value: T, timestamp: number | undefined): void {
    if (this.watermarks === undefined) output.collect(value, timestamp)
    else {
      output.collect(value, this.watermarks.onRecord(splitKey, value, timestamp))
      if (this.watermarks.pending) this.watermarks.emit(output)
    }
  }

  /** True while the buffer has room; false (counted in `fetchPauses`) when a fetcher must wait. */
  protected hasRoom(): boolean {
    if (this.buffered < this.base.maxBufferedRecords) return true
    if (!this.pausedForRoom) {
      this.pausedForRoom = true
      this.fetchPauses.inc()
    }
    return false
  }

  /** Buffers a fetched chunk of `split` (an empty one is ignored); the caller signals availability. */
  protected enqueue(split: S, chunk: E[]): void {
    if (chunk.length === 0) return
    split.chunks.push(chunk)
    split.buffered += chunk.length
    this.buffered += chunk.length
    if (!split.queued) {
      split.queued = true
      this.ready.push(split)
    }
  }

  /** A split this reader gives up: its buffered elements are dropped and its watermark forgotten. */
  protected dropSplit(split: S): void {
    this.buffered -= split.buffered
    const i = this.ready.indexOf(split)
    if (i >= 0) this.ready.splice(i, 1)
    this.watermarks?.removeSplit(split.key)
  }

  /** Runs `discoverSplits`, one at a time (each run counted in `discoveries`); a call while one runs (or after close) does nothing. */
  protected async discover(initial: boolean): Promise<void> {
    if (this.discovering || this.closed) return
    this.discovering = true
    this.discoveryRuns.inc()
    try {
      await this.discoverSplits(initial)
    } finally {
      this.discovering = false
    }
  }

  /** Starts periodic discovery (unless its interval is 0) and the watermark ticks. */
  protected startTimers(discovery: boolean): void {
    if (discovery) this.scheduleDiscovery()
    this.scheduleTick()
  }

  /**
   * Runs the connector's first contact with its system, retried on `retry`; failing for good with
   * ConnectorError 'ERR_CONNECT' naming `target`. Waits on a plain timer, not the subtask's mailbox
   * clock (which goes quiet once a deployment is cancelled), so the loop always ends: at `close()` it
   * makes no further attempt.
   */
  protected connect(attempt: () => Promise<void>, how: { retry: RetrySchedule; target: string }): Promise<void> {
    return connectWithRetry(attempt, how.retry, {
      target: how.target,
      clock: systemProcessingTime,
      closed: () => this.closed,
      onRetry: (retry, delayMs, error) => this.log.warn('cannot connect; trying again', { retry, delayMs, error }),
    })
  }

  protected fail(error: Error): void {
    this.failure ??= error
    this.available.signal()
  }

  private scheduleDiscovery(): void {
    const interval = this.base.discoveryIntervalMs
    if (interval === 0 || this.closed) return
    const clock = this.context.processingTime
    this.cancelDiscovery = clock.scheduleAt(clock.now() + interval, () => {
      this.discover(false).then(
        () => this.scheduleDiscovery(),
        (error) => {
          this.log.warn(`${this.base.splitName} discovery failed; trying again at the next interval`, { error })
          this.scheduleDiscovery()
        },
      )
    })
  }

  private scheduleTick(): void {
    const watermarks = this.watermarks
    if (watermarks === undefined || this.closed) return
    const clock = this.context.processingTime
    this.cancelTick = clock.scheduleAt(clock.now() + this.base.watermarkIntervalMs, () => {
      watermarks.tick()
      if (watermarks.pending) this.available.signal()
      this.scheduleTick()
    })
  }
}
