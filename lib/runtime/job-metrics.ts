import type { OperatorMetrics } from './output.js'

/** The live counters of one subtask; the job's metrics snapshot reads them. */
export class SubtaskMetrics {
  /** Time spent unable to go on because downstream gave no credit or a sink asked to wait. */
  backpressuredMs = 0
  blockedSince: number | undefined = undefined
  status: 'deploying' | 'running' | 'finishing' | 'finished' | 'cancelled' | 'failed' = 'deploying'
  /** Per operator of the chain, its own metrics (async I/O, late records), read when a snapshot is taken. */
  details = (): Array<{ operator: string; metrics: Readonly<Record<string, unknown>> }> => []
  queuedRecords = () => 0
  maxQueuedRecords = () => 0
  bufferedRecords = () => 0
  mailboxSize = () => 0
  /** The minimum watermark over the subtask's inputs (Flink's currentInputWatermark); -Infinity before the first. */
  watermark = () => Number.NEGATIVE_INFINITY

  constructor(
    readonly vertex: string,
    readonly subtask: number,
    readonly operators: readonly OperatorMetrics[],
    /** Records the subtask's input channels can hold: channels × credits × batch size. */
    readonly inputCapacity: number,
    readonly mailboxCapacity: number,
  ) {}

  startBlocked(now: number): void {
    this.blockedSince ??= now
  }

  endBlocked(now: number): void {
    if (this.blockedSince === undefined) return
    this.backpressuredMs += now - this.blockedSince
    this.blockedSince = undefined
  }
}

/** One operator's totals over its subtasks. */
export interface OperatorMetricsSnapshot {
  readonly operator: string
  readonly recordsIn: number
  readonly recordsOut: number
  /** Records per second out of the operator since the job started. */
  readonly recordsOutPerSecond: number
}

/** One subtask's flow-control state. */
export interface SubtaskMetricsSnapshot {
  readonly vertex: string
  readonly subtask: number
  readonly status: SubtaskMetrics['status']
  readonly backpressuredMs: number
  /** Records waiting in the input queues, now and at most, and what the credits allow. */
  readonly queuedRecords: number
  readonly maxQueuedRecords: number
  readonly inputCapacity: number
  /** Records in this subtask's open output batches and batches waiting for credit. */
  readonly bufferedRecords: number
  readonly mailboxSize: number
  readonly mailboxCapacity: number
  /** The minimum watermark over the inputs; -Infinity before the first (and for a source). */
  readonly watermark: number
  /** Records in and out of each operator of the subtask's chain. */
  readonly operators: ReadonlyArray<{
    readonly operator: string
    readonly recordsIn: number
    readonly recordsOut: number
  }>
}

/** An operator subtask's own metrics (async I/O requests and latencies, late records dropped by windows). */
export interface OperatorDetailSnapshot {
  readonly operator: string
  readonly subtask: number
  readonly metrics: Readonly<Record<string, unknown>>
}

/** A point-in-time view of a running or finished job. */
export interface JobMetricsSnapshot {
  readonly elapsedMs: number
  readonly restarts: number
  readonly operators: readonly OperatorMetricsSnapshot[]
  readonly subtasks: readonly SubtaskMetricsSnapshot[]
  readonly details: readonly OperatorDetailSnapshot[]
  readonly deadLetters: number
}

/**
 * The counters of a job's current deployment: what `job.metrics()` reads.
 *
 * @example
 * const snapshot = registry.snapshot(); snapshot.operators.find((o) => o.operator === 'map')?.recordsOut
 */
export class MetricsRegistry {
  readonly subtasks: SubtaskMetrics[] = []
  restarts = 0
  deadLetters = 0

  constructor(private readonly startedAt: number) {}

  snapshot(now = Date.now()): JobMetricsSnapshot {
    const elapsedMs = now - this.startedAt
    const totals = new Map<string, { recordsIn: number; recordsOut: number }>()
    for (const s of this.subtasks) {
      for (const op of s.operators) {
        const t = totals.get(op.operator) ?? { recordsIn: 0, recordsOut: 0 }
        t.recordsIn += op.recordsIn
        t.recordsOut += op.recordsOut
        totals.set(op.operator, t)
      }
    }
    return {
      elapsedMs,
      restarts: this.restarts,
      deadLetters: this.deadLetters,
      operators: [...totals].map(([operator, t]) => ({
        operator,
        ...t,
        recordsOutPerSecond: elapsedMs > 0 ? (t.recordsOut * 1000) / elapsedMs : 0,
      })),
      details: this.subtasks.flatMap((s) =>
        s.details().map((d) => ({ operator: d.operator, subtask: s.subtask, metrics: d.metrics })),
      ),
      subtasks: this.subtasks.map((s) => subtaskSnapshot(s, now)),
    }
  }
}

/**
 * One subtask's counters as plain data: what `job.metrics()` shows of it, and what a worker thread
 * sends the coordinator of the subtasks it runs.
 *
 * @example
 * subtaskSnapshot(metrics, Date.now()).operators[0]?.recordsOut
 */
export function subtaskSnapshot(s: SubtaskMetrics, now: number): SubtaskMetricsSnapshot {
  return {
    vertex: s.vertex,
    subtask: s.subtask,
    status: s.status,
    backpressuredMs: s.backpressuredMs + (s.blockedSince === undefined ? 0 : now - s.blockedSince),
    queuedRecords: s.queuedRecords(),
    maxQueuedRecords: s.maxQueuedRecords(),
    inputCapacity: s.inputCapacity,
    bufferedRecords: s.bufferedRecords(),
    mailboxSize: s.mailboxSize(),
    mailboxCapacity: s.mailboxCapacity,
    watermark: s.watermark(),
    operators: s.operators.map((o) => ({ operator: o.operator, recordsIn: o.recordsIn, recordsOut: o.recordsOut })),
  }
}
