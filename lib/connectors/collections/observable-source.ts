import type { Observable, Subscription } from 'rxjs'
import { ConfigError, ConnectorError, messageOf } from '../../errors.js'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, Source, SourceOutput, SourceReader } from '../../runtime/source.js'

/** Options of {@link ObservableSource}. */
export interface ObservableSourceOptions {
  /** How many emitted values may wait for demand; default 65,536. */
  bufferSize?: number
  /**
   * What happens when an Observable outruns the job by more than `bufferSize` (an Observable cannot be
   * paused): 'fail' (default) fails the job naming this option; 'drop-newest' / 'drop-oldest' drop
   * values and count them in `dropped`.
   */
  overflow?: 'fail' | 'drop-newest' | 'drop-oldest'
}

/**
 * Emits what an RxJS Observable emits, from one subtask. Observables push and cannot be paused, so the
 * reader holds a bounded buffer between the Observable and the job's demand; for large cold data use
 * an iterable or async iterable, which are read with demand. Not replayable: at-most-once on restore.
 *
 * @example
 * env.fromSource(new ObservableSource(interval(10).pipe(take(100))))
 */
export class ObservableSource<T> implements Source<T, never> {
  readonly name = 'observable'
  readonly bounded = false
  readonly maxParallelism = 1
  readonly bufferSize: number
  readonly overflow: 'fail' | 'drop-newest' | 'drop-oldest'

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

  createReader(): SourceReader<T, never> {
    return new ObservableReader(this)
  }
}

class ObservableReader<T> implements SourceReader<T, never> {
  private readonly buffer: T[] = []
  private head = 0
  private completed = false
  private failure: Error | undefined
  private subscription: Subscription | undefined
  private readonly available = new Availability()
  dropped = 0

  constructor(private readonly source: ObservableSource<T>) {}

  start(): void {
    this.subscription = this.source.observable.subscribe({
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
  }

  pollNext(output: SourceOutput<T>): InputStatus {
    if (this.failure !== undefined) throw this.failure
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head]!
      this.buffer[this.head++] = undefined as T
      if (this.head === this.buffer.length) {
        this.buffer.length = 0
        this.head = 0
      }
      output.collect(value)
      return this.head < this.buffer.length ? 'more' : this.completed ? 'end' : 'nothing-available'
    }
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
  }

  private offer(value: T): void {
    if (this.buffer.length - this.head >= this.source.bufferSize) {
      if (this.source.overflow === 'drop-newest') {
        this.dropped++
        return
      }
      if (this.source.overflow === 'drop-oldest') {
        this.dropped++
        this.head++
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
