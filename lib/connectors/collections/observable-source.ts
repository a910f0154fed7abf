import type { MessagePort } from 'node:worker_threads'
import type { Observable, Subscription } from 'rxjs'
import { ConfigError, ConnectorError, messageOf } from '../../errors.js'
import type { Logger } from '../../logging.js'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, Source, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import type { ThreadBridged } from '../../runtime/thread-bridged.js'
import { observableThrough, serveObservable } from './observable-bridge.js'

/** Options of {@link ObservableSource}. */
export interface ObservableSourceOptions {
  /** How many emitted values may wait for demand; default 65,536. */
  bufferSize?: number
  /**
   * What happens when an Observable outruns the job by more than `bufferSize` (an Observable cannot be
   * paused): 'fail' (default) fails the job naming this option; 'drop-newest' / 'drop-oldest' drop
   * values, count them in the job's metrics (`details` of the source: `droppedRecords`) and warn in the
   * log with the count, at most once per 10 s and once more when the source closes.
   */
  overflow?: 'fail' | 'drop-newest' | 'drop-oldest'
}

/**
 * Emits what an RxJS Observable emits, from one subtask. Observables push and cannot be paused, so the
 * reader holds a bounded buffer between the Observable and the job's demand; for large cold data use
 * an iterable or async iterable, which are read with demand. Not replayable: at-most-once on restore.
 * On the worker executor the Observable is subscribed on the coordinating thread (it is thread-bridged):
 * a `Subject` the application feeds there reaches the reader in its worker.
 *
 * @example
 * env.fromSource(new ObservableSource(interval(10).pipe(take(100))))
 */
export class ObservableSource<T> implements Source<T, never>, ThreadBridged {
  readonly name = 'observable'
  readonly bounded = false
  readonly maxParallelism = 1
  readonly bufferSize: number
  readonly overflow: 'fail' | 'drop-newest' | 'drop-oldest'
  /** In a worker: the reader's port to the coordinating thread's Observable. */
  private readonly bridges = new Map<number, MessagePort>()

  constructor(
    readonly observable: Observable<T>,
    options: ObservableSourceOptions = {},
  ) {
    if (typeof observable?.subscribe !== 'function')
      throw new ConfigError('fromObservable', observable, 'an Observable')
    this.bufferSize = options.bufferSize ?? 65_536
    this.overflow = options.overflow ?? 'fail'
    if (!Number.isInteger(this.bufferSize) || this.bufferSize < 1)
      throw new ConfigError('fromObservable.bufferSize', options.bufferSize, 'a whole number of at least 1')
    if (!['fail', 'drop-newest', 'drop-oldest'].includes(this.overflow))
      throw new ConfigError('fromObservable.overflow', options.overflow, "'fail' | 'drop-newest' | 'drop-oldest'")
  }

  createReader(context: SourceReaderContext): SourceReader<T, never> {
    const port = this.bridges.get(context.subtask)
    if (port === undefined) return new ObservableReader(this, context, this.observable)
    const { values, subscribed } = observableThrough<T>(port)
    return new ObservableReader(this, context, values, subscribed)
  }

  serveBridge(_subtask: number, _parallelism: number, port: MessagePort): void {
    serveObservable(this.observable, port)
  }

  useBridge(subtask: number, port: MessagePort): void {
    this.bridges.set(subtask, port)
  }
}

/** Drops are logged at most this often (and once more at close), with the count. */
const DROP_WARNING_INTERVAL_MS = 10_000

class ObservableReader<T> implements SourceReader<T, never> {
  private readonly buffer: T[] = []
  private head = 0
  private completed = false
  private failure: Error | undefined
  private subscription: Subscription | undefined
  private readonly available = new Availability()
  private dropped = 0
  /** Dropped records already reported in a log line, and when the next line may be written. */
  private reported = 0
  private nextWarningAt = 0

  constructor(
    private readonly source: ObservableSource<T>,
    private readonly context: SourceReaderContext,
    private readonly observable: Observable<T>,
    /** Settles once the Observable is subscribed where it lives (the coordinating thread, on workers). */
    private readonly subscribed?: Promise<void>,
  ) {
    context.metrics?.gauge('droppedRecords', () => this.dropped)
  }

  start(): Promise<void> | undefined {
    this.subscription = this.observable.subscribe({
      next: (value) => this.offer(value),
      error: (error) => {
        this.failure = new ConnectorError('ERR_SOURCE', `observable source failed: ${messageOf(error)}`, {
          cause: error,
        })
        this.available.signal()
      },
      complete: () => {
        this.completed = true
        this.available.signal()
      },
    })
    return this.subscribed
  }

  /** Emits what the Observable emitted before it failed (as RxJS delivers it), then fails. */
  pollNext(output: SourceOutput<T>): InputStatus {
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head]!
      this.buffer[this.head++] = undefined as T
      if (this.head === this.buffer.length) {
        this.buffer.length = 0
        this.head = 0
      }
      output.collect(value)
      if (this.head < this.buffer.length || this.failure !== undefined) return 'more'
      return this.completed ? 'end' : 'nothing-available'
    }
    if (this.failure !== undefined) throw this.failure
    return this.completed ? 'end' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  snapshotState(): never[] {
    return []
  }

  close(): void {
    this.subscription?.unsubscribe()
    if (this.dropped > this.reported) this.warnDropped(this.context.logger)
  }

  private drop(): void {
    this.dropped++
    const log = this.context.logger
    if (log === undefined) return
    const now = this.context.processingTime.now()
    if (now < this.nextWarningAt) return
    this.nextWarningAt = now + DROP_WARNING_INTERVAL_MS
    this.warnDropped(log)
  }

  private warnDropped(log: Logger | undefined): void {
    const n = this.dropped - this.reported
    log?.warn(`observable source dropped ${n} record${n === 1 ? '' : 's'} on overflow`, {
      overflow: this.source.overflow,
      bufferSize: this.source.bufferSize,
      droppedRecords: this.dropped,
    })
    this.reported = this.dropped
  }

  private offer(value: T): void {
    if (this.buffer.length - this.head >= this.source.bufferSize) {
      if (this.source.overflow === 'drop-newest') {
        this.drop()
        return
      }
      if (this.source.overflow === 'drop-oldest') {
        this.drop()
        this.buffer[this.head++] = undefined as T
        // compact once a buffer's worth of dropped slots sit at the front: amortised O(1) per value
        if (this.head >= this.source.bufferSize) {
          this.buffer.splice(0, this.head)
          this.head = 0
        }
      } else {
        this.failure ??= new ConnectorError(
          'ERR_SOURCE_OVERFLOW',
          `observable source emitted more than bufferSize (${this.source.bufferSize}) values ahead of demand; raise fromObservable.bufferSize, choose an overflow policy, or use an (async) iterable that is read with demand`,
        )
        this.subscription?.unsubscribe()
        this.available.signal()
        return
      }
    }
    this.buffer.push(value)
    this.available.signal()
  }
}
