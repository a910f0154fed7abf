import { ConfigError, ConnectorError } from '../../errors.js'
import { Availability } from '../../runtime/availability.js'
import type { InputStatus, Source, SourceOutput, SourceReader } from '../../runtime/source.js'
import type { IteratorSplit } from './iterator-source.js'

/** Options of {@link AsyncIterableSource}. */
export interface AsyncIterableOptions {
  /** How many elements are fetched ahead of demand; default 256. */
  prefetch?: number
}

/**
 * Emits the elements of an async iterable from one subtask, fetching at most `prefetch` ahead of what
 * downstream asked for: a slow job slows the iterable down instead of buffering it. Given a function
 * that makes the iterable, a restore makes it again and skips what was emitted before the checkpoint.
 *
 * @example
 * env.fromSource(new AsyncIterableSource(() => readLines('big.log')))
 */
export class AsyncIterableSource<T> implements Source<T, IteratorSplit> {
  readonly name = 'async-iterable'
  readonly bounded = true
  readonly maxParallelism = 1
  readonly prefetch: number

  constructor(
    readonly iterable: AsyncIterable<T> | (() => AsyncIterable<T>),
    options: AsyncIterableOptions = {},
  ) {
    this.prefetch = options.prefetch ?? 256
    if (!Number.isInteger(this.prefetch) || this.prefetch < 1)
      throw new ConfigError('fromAsyncIterable.prefetch', options.prefetch, 'a whole number of at least 1')
  }

  createReader(_context: unknown, restored?: IteratorSplit[]): SourceReader<T, IteratorSplit> {
    const replayable = typeof this.iterable === 'function'
    const iterable = typeof this.iterable === 'function' ? this.iterable() : this.iterable
    return new AsyncIterableReader(
      iterable[Symbol.asyncIterator](),
      this.prefetch,
      replayable ? (restored?.[0]?.emitted ?? 0) : 0,
    )
  }
}

class AsyncIterableReader<T> implements SourceReader<T, IteratorSplit> {
  private readonly buffer: T[] = []
  private head = 0
  private done = false
  private failure: unknown
  private pumping = false
  private closed = false
  private emitted = 0
  private readonly available = new Availability()

  constructor(
    private readonly iterator: AsyncIterator<T>,
    private readonly prefetch: number,
    private skip: number,
  ) {}

  start(): void {
    this.pump()
  }

  pollNext(output: SourceOutput<T>): InputStatus {
    if (this.failure !== undefined)
      throw new ConnectorError(
        'ERR_SOURCE',
        `async iterable failed: ${String((this.failure as Error)?.message ?? this.failure)}`,
        { cause: this.failure },
      )
    if (this.head < this.buffer.length) {
      const value = this.buffer[this.head]!
      this.buffer[this.head++] = undefined as T
      if (this.head === this.buffer.length) {
        this.buffer.length = 0
        this.head = 0
      }
      this.emitted++
      output.collect(value)
      if (!this.pumping && !this.done) this.pump()
      return this.head < this.buffer.length ? 'more' : this.done ? 'end' : 'nothing-available'
    }
    return this.done ? 'end' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  snapshotState(): IteratorSplit[] {
    return [{ emitted: this.emitted }]
  }

  async close(): Promise<void> {
    this.closed = true
    await this.iterator.return?.()
  }

  private pump(): void {
    this.pumping = true
    void (async () => {
      try {
        while (!this.closed && this.buffer.length - this.head < this.prefetch) {
          const step = await this.iterator.next()
          if (step.done) {
            this.done = true
            break
          }
          if (this.skip > 0) {
            this.skip--
            this.emitted++
            continue
          }
          this.buffer.push(step.value)
          this.available.signal()
        }
      } catch (error) {
        this.failure = error ?? new Error('async iterable threw')
      }
      this.pumping = false
      this.available.signal()
    })()
  }
}
