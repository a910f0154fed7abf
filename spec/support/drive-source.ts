import type { InputStatus, Source, SourceOutput, SourceReader } from '../../lib/runtime/source.js'
import { systemProcessingTime, type ProcessingTimeService } from '../../lib/time/processing-time.js'

/** Where a driven reader runs; defaults: subtask 0 of 1, wall-clock time. */
export interface DriveContext<Split> {
  readonly subtask?: number
  readonly parallelism?: number
  readonly processingTime?: ProcessingTimeService
  /** Splits given back from a checkpoint, as the runtime would on a restore. */
  readonly restored?: Split[]
}

/** When {@link SourceDriver.run} stops polling. */
export interface RunOptions<T> {
  /** Stop after this many more records (then snapshot, for instance). */
  readonly maxRecords?: number
  /** Stop once this holds for the records collected so far. */
  readonly until?: (records: readonly T[]) => boolean
  /** Reject when neither 'end' nor a stop condition came within this long; default 5000 ms. */
  readonly timeoutMs?: number
  /** Called after every poll: to watch the reader's buffer, or to poll slowly (return a promise). */
  readonly afterPoll?: () => void | Promise<void>
}

/**
 * Drives a source reader the way the runtime does, without the engine: `start()`, then `pollNext` in a
 * loop into an array, awaiting `isAvailable()` on 'nothing-available', until 'end', a stop condition or
 * a deadline. Tests of connectors use it to read records, stop early, snapshot and restore.
 *
 * @example
 * const driver = await SourceDriver.start(new TextFileSource(path))
 * await driver.run({ maxRecords: 10 })
 * const splits = driver.snapshot()
 * await driver.close()
 * const resumed = await SourceDriver.start(new TextFileSource(path), { restored: splits })
 */
export class SourceDriver<T, Split, R extends SourceReader<T, Split> = SourceReader<T, Split>> {
  readonly records: T[] = []
  readonly timestamps: Array<number | undefined> = []
  /** The status of the last poll; 'end' once the reader ended. */
  status: InputStatus | undefined
  private checkpointId = 0
  private readonly output: SourceOutput<T> = {
    collect: (value, timestamp) => {
      this.records.push(value)
      this.timestamps.push(timestamp)
    },
    emitWatermark: () => {},
    markIdle: () => {},
  }

  private constructor(readonly reader: R) {}

  /** Creates the reader of one subtask and starts it. */
  static async start<T, Split, R extends SourceReader<T, Split> = SourceReader<T, Split>>(
    source: Source<T, Split> & { createReader(...args: never[]): R },
    context: DriveContext<Split> = {},
  ): Promise<SourceDriver<T, Split, R>> {
    const { subtask = 0, parallelism = 1, processingTime = systemProcessingTime, restored } = context
    const reader = source.createReader({ subtask, parallelism, processingTime }, restored) as R
    await reader.start()
    return new SourceDriver<T, Split, R>(reader)
  }

  /** Polls until 'end' or a stop condition; resolves with 'end' or 'stopped'. */
  async run(options: RunOptions<T> = {}): Promise<'end' | 'stopped'> {
    const { maxRecords = Infinity, until, timeoutMs = 5000, afterPoll } = options
    const stopAt = this.records.length + maxRecords
    const deadline = performance.now() + timeoutMs
    const stopped = (): boolean => this.records.length >= stopAt || (until?.(this.records) ?? false)
    while (this.status !== 'end') {
      if (stopped()) return 'stopped'
      this.status = this.reader.pollNext(this.output)
      await afterPoll?.()
      if (this.status === 'nothing-available' && !stopped()) await this.availableBefore(deadline, timeoutMs, stopped)
      else if (performance.now() > deadline) this.timedOut(timeoutMs)
    }
    return 'end'
  }

  /** The reader's splits, as for checkpoint n (ids increase with each call). */
  snapshot(): Split[] {
    return structuredClone(this.reader.snapshotState(++this.checkpointId))
  }

  async close(): Promise<void> {
    await this.reader.close()
  }

  /** Waits for the reader, the stop condition (checked every 2 ms: it may depend on the reader's progress, not on a record) or the deadline. */
  private async availableBefore(deadline: number, timeoutMs: number, stopped: () => boolean): Promise<void> {
    const left = deadline - performance.now()
    if (left <= 0) this.timedOut(timeoutMs)
    let timer: NodeJS.Timeout | undefined
    let ticker: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), left)
    })
    const stop = new Promise<'stopped'>((resolve) => {
      ticker = setInterval(() => stopped() && resolve('stopped'), 2)
    })
    const outcome = await Promise.race([this.reader.isAvailable().then(() => 'available' as const), timeout, stop])
    clearTimeout(timer)
    clearInterval(ticker)
    if (outcome === 'timeout') this.timedOut(timeoutMs)
  }

  private timedOut(timeoutMs: number): never {
    throw new Error(
      `SourceDriver: the reader neither ended nor met the stop condition within ${timeoutMs} ms (${this.records.length} records, last status ${this.status})`,
    )
  }
}

/**
 * Reads a bounded source to its end and returns the records.
 *
 * @example
 * const lines = await drainSource(new TextFileSource(path))
 */
export async function drainSource<T, Split>(
  source: Source<T, Split>,
  context: DriveContext<Split> = {},
  options: RunOptions<T> = {},
): Promise<T[]> {
  const driver = await SourceDriver.start(source, context)
  try {
    await driver.run(options)
    return driver.records
  } finally {
    await driver.close()
  }
}
