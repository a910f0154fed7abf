import type { Logger } from '../logging.js'
import type { MetricGroup } from './metric-group.js'
import type { DeadLetter } from './output-tag.js'
import type { ProcessingTimeService } from '../time/processing-time.js'

/** What one call of {@link SourceReader.pollNext} left behind (Flink's InputStatus). */
export type InputStatus = 'more' | 'nothing-available' | 'end'

/** Where a source reader emits. Records carry an event timestamp when the source knows one. */
export interface SourceOutput<T> {
  collect(value: T, timestamp?: number): void
  emitWatermark(watermark: number): void
  /** The reader has nothing to read for now: downstream watermarks stop waiting for it. */
  markIdle(): void
}

/** What a reader knows of where it runs. */
export interface SourceReaderContext {
  readonly subtask: number
  readonly parallelism: number
  readonly processingTime: ProcessingTimeService
  /** The job's structured logger. */
  readonly logger?: Logger
  /** Where the connector's counters go: the job's metrics, labelled with operator, subtask and connector. */
  readonly metrics?: MetricGroup
  /** Where input that cannot be decoded goes: counted, logged and published on the job handle's `deadLetters`. */
  readonly deadLetter?: (letter: DeadLetter) => void
  /** The job's checkpoint interval; undefined when checkpointing is off. */
  readonly checkpointIntervalMs?: number
}

/**
 * Reads a share of a source with demand (Flink's FLIP-27 SourceReader). The runtime calls `pollNext`
 * only while downstream has credit; a reader with nothing to hand out returns 'nothing-available' and
 * resolves `isAvailable()` when it has. A reader buffers at most a bounded amount.
 */
export interface SourceReader<T, Split = unknown> {
  /** Opens connections or files; the first `pollNext` comes after it settles. */
  start(): void | Promise<void>
  /** Emits what is ready (usually one record) and tells whether more is. */
  pollNext(output: SourceOutput<T>): InputStatus
  /** Resolves when `pollNext` has something to hand out again. */
  isAvailable(): Promise<void>
  /** The reader's position as splits, each serialisable, for a checkpoint. */
  snapshotState(checkpointId: number): Split[]
  /** A checkpoint that covers everything emitted before it is complete (acknowledge upstream here). */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>
  close(): void | Promise<void>
}

/**
 * A source: bounded or not, how many subtasks may read it, and how each reads its share.
 *
 * @example
 * const numbers: Source<number> = {
 *   name: 'numbers', bounded: true,
 *   createReader: (ctx) => new IteratorReader([1, 2, 3][Symbol.iterator]()),
 * }
 */
export interface Source<T, Split = unknown> {
  readonly name: string
  readonly bounded: boolean
  /** 1 for sources that cannot be split, as Flink's non-parallel sources. */
  readonly maxParallelism?: number
  /**
   * How splits are handed back when a job restores at another parallelism: 'deal' (default) spreads
   * them round-robin; 'all' gives every reader every split, for readers that keep only the splits they
   * own (files assigned by name). 'union' gives every reader every split at any parallelism, the same
   * one included (Flink's union list state): for readers that may meet any other reader's input, as
   * NiFi's shared queue hands a redelivery to any subtask.
   */
  readonly restoredSplits?: 'deal' | 'all' | 'union'
  /** The reader acknowledges upstream when a checkpoint completes: a bounded job takes a final checkpoint for it. */
  readonly commitsOnCheckpoint?: boolean
  /**
   * The broker stops delivering once a window of messages waits for acknowledgement, and the reader
   * acknowledges only when a checkpoint completes: without checkpointing it reads one window, then
   * waits. A job started so logs a warning naming the source (it is not refused: such a job can still
   * fail or be cancelled as usual, and a savepoint acknowledges too).
   */
  readonly acknowledgesOnCheckpoint?: boolean
  /** Creates the reader of one subtask; `restored` holds the splits given back from a checkpoint. */
  createReader(context: SourceReaderContext, restored?: Split[]): SourceReader<T, Split>
}
