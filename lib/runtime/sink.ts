import type { Logger } from '../logging.js'
import type { MetricGroup } from './metric-group.js'
import type { DeadLetter } from './output-tag.js'
import type { ProcessingTimeService } from '../time/processing-time.js'

/**
 * What a connector promises about each record under its documented settings: a sink about what it
 * writes, a message-queue source about when it acknowledges.
 */
export type DeliveryGuarantee = 'at-most-once' | 'at-least-once' | 'exactly-once'

/** What a writer knows of where it runs. */
export interface SinkWriterContext {
  readonly subtask: number
  readonly parallelism: number
  readonly processingTime: ProcessingTimeService
  /** The job's structured logger. */
  readonly logger?: Logger
  /** Where the connector's counters go: the job's metrics, labelled with operator, subtask and connector. */
  readonly metrics?: MetricGroup
  /**
   * Where a record the external system refused for good goes (with the reason, when the writer's
   * options say so): the sink's dead-letter output, counted, logged and published on the job handle's
   * `deadLetters`. Call it on the subtask's mailbox (from `write`, `flush`, `snapshotState`), not from a
   * client's callback.
   */
  readonly deadLetter?: (letter: DeadLetter) => void
}

/**
 * Writes the records of one sink subtask (Flink's SinkWriter). `write` is synchronous and buffers; a
 * writer that wants the runtime to stop handing it records returns a promise from `ready()`.
 */
export interface SinkWriter<T> {
  write(value: T, timestamp: number | undefined): void
  /**
   * A promise while the writer cannot take more (its buffer is full); undefined when it can. The runtime
   * asks once per input batch, not per record, so a writer must accept a bounded overshoot: after the
   * write that made it not ready it may still receive up to `batchSize − 1` writes (511 at the default
   * batch size; more only when an operator chained before the sink emits several records per input
   * record, by that fan-out). A sink chained to its source is asked after every poll of the reader.
   */
  ready?(): Promise<void> | undefined
  /** Writes out everything buffered: on a checkpoint barrier, and at the end of input. */
  flush?(endOfInput: boolean): void | Promise<void>
  /**
   * All input has been written; with checkpointing, the final checkpoint comes next, before
   * `flush(true)`. A writer that holds data back across checkpoints (compaction) lets it go in that
   * checkpoint, so that nothing is made visible after the last checkpoint a restore could start from.
   */
  endInput?(): void
  /**
   * On a checkpoint barrier, after everything before it was written: flush (at-least-once) or
   * pre-commit (exactly-once), and return what must be in the checkpoint (pending transactions). The
   * subtask takes no more records until the promise settles.
   */
  snapshotState?(checkpointId: number): unknown[] | Promise<unknown[]>
  /**
   * True when the promise of `snapshotState` waits only for the records before the barrier (the writer
   * tells them apart from later ones): the subtask then goes on writing while it settles.
   */
  readonly writesWhileSnapshotting?: boolean
  /** The checkpoint is complete: commit what was pre-committed for it and earlier. Commits are idempotent. */
  notifyCheckpointComplete?(checkpointId: number): void | Promise<void>
  close(): void | Promise<void>
}

/**
 * A sink: its guarantee and how each subtask writes.
 *
 * @example
 * const logSink: Sink<string> = { name: 'log', guarantee: 'at-least-once',
 *   createWriter: () => ({ write: (v) => console.log(v), close() {} }) }
 */
export interface Sink<T> {
  readonly name: string
  readonly guarantee: DeliveryGuarantee
  /** 1 for sinks that one subtask must write alone (a single output file). */
  readonly maxParallelism?: number
  /** `restored`: the writer states of a checkpoint dealt to this subtask (recommit or abort them). */
  createWriter(context: SinkWriterContext, restored?: readonly unknown[]): SinkWriter<T>
}
