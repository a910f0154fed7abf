import type { MetricGroup } from './metric-group.js'

/**
 * What a subtask is doing, for its time shares (Flink's busyTimeMsPerSecond, idleTimeMsPerSecond and
 * backPressuredTimeMsPerSecond): `backpressured` while downstream gives no credit, a sink or async
 * operator asked to wait, or a checkpoint holds input; `idle` while it waits for input (a channel
 * empty, a source with nothing available, end of input reached); `busy` otherwise, whether running or
 * waiting for its turn on the thread.
 */
export type SubtaskActivity = 'busy' | 'idle' | 'backpressured'

/** A subtask's time per second in each activity; the three add up to 1000. */
export interface TimeShares {
  readonly busyTimeMsPerSecond: number
  readonly idleTimeMsPerSecond: number
  readonly backPressuredTimeMsPerSecond: number
}

/** One operator's records in and out in one subtask (live: `OperatorMetrics`; a worker's report: plain data). */
export interface OperatorCounts {
  readonly operator: string
  readonly recordsIn: number
  readonly recordsOut: number
}

/** The shortest span the time shares are averaged over. */
const SHARE_WINDOW_MS = 1_000

/**
 * The live counters of one subtask; the job's metrics snapshot reads them.
 *
 * Time shares cost one clock read per change of activity (the subtask calls `enter` at its mailbox
 * loop's transitions: after a turn, a credit, a pause), never per record. A snapshot averages them over
 * the last window of at least a second, so any reader at any pace sees per-second values.
 */
export class SubtaskMetrics {
  status: 'deploying' | 'running' | 'finishing' | 'finished' | 'cancelled' | 'failed' = 'deploying'
  /** Per operator of the chain, its own metrics (async I/O, late records), read when a snapshot is taken. */
  details = (): Array<{ operator: string; metrics: Readonly<Record<string, unknown>> }> => []
  queuedRecords = () => 0
  maxQueuedRecords = () => 0
  bufferedRecords = () => 0
  mailboxSize = () => 0
  /** The minimum watermark over the subtask's inputs (Flink's currentInputWatermark); -Infinity before the first. */
  watermark = () => Number.NEGATIVE_INFINITY
  /** The metric groups of the connectors in the chain (its source reader, sink writers), by operator uid. */
  connectorGroups: ReadonlyArray<{ readonly operator: string; readonly group: MetricGroup }> = []
  /** Its connectors' counters and gauges now, as plain data (a worker thread reports them so). */
  connectors = (): ConnectorMetricsSnapshot[] =>
    this.connectorGroups.map(({ operator, group }) => {
      const counters: Record<string, number> = {}
      const gauges: Record<string, number> = {}
      group.forEach((name, value, counter) => {
        if (counter) counters[name] = value
        else gauges[name] = value
      })
      return { connector: group.connector, operator, vertex: this.vertex, subtask: this.subtask, counters, gauges }
    })
  private current: SubtaskActivity = 'busy'
  private since: number
  private readonly startedAt: number
  private idleMs = 0
  private backpressuredMs = 0
  /** Totals at the start of the current share window, and the shares of the last full window. */
  private window: { at: number; idleMs: number; backpressuredMs: number }
  private shares: TimeShares | undefined

  constructor(
    readonly vertex: string,
    readonly subtask: number,
    readonly operators: readonly OperatorCounts[],
    /** Records the subtask's input channels can hold: channels × credits × batch size. */
    readonly inputCapacity: number,
    readonly mailboxCapacity: number,
    /** Milliseconds, monotonic; injected by tests. */
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.startedAt = this.since = clock()
    this.window = { at: this.startedAt, idleMs: 0, backpressuredMs: 0 }
  }

  /** The subtask's activity now. */
  get activity(): SubtaskActivity {
    return this.current
  }

  /** The subtask now does `activity`; reads the clock only when that changes. */
  enter(activity: SubtaskActivity): void {
    if (activity === this.current) return
    const now = this.clock()
    if (this.current === 'idle') this.idleMs += now - this.since
    else if (this.current === 'backpressured') this.backpressuredMs += now - this.since
    this.current = activity
    this.since = now
  }

  /** Milliseconds spent in each activity since the subtask was created. */
  times(): { busyMs: number; idleMs: number; backpressuredMs: number; at: number } {
    const at = this.clock()
    const ongoing = at - this.since
    const idleMs = this.idleMs + (this.current === 'idle' ? ongoing : 0)
    const backpressuredMs = this.backpressuredMs + (this.current === 'backpressured' ? ongoing : 0)
    return { busyMs: Math.max(0, at - this.startedAt - idleMs - backpressuredMs), idleMs, backpressuredMs, at }
  }

  /**
   * Time per second in each activity over the last window of at least a second (since creation while
   * the first second runs).
   */
  timeShares(times = this.times()): TimeShares {
    const span = times.at - this.window.at
    if (this.shares !== undefined && span < SHARE_WINDOW_MS) return this.shares
    const per = (ms: number) => (span > 0 ? Math.min(1000, Math.max(0, (ms * 1000) / span)) : 0)
    const idle = per(times.idleMs - this.window.idleMs)
    const backpressured = Math.min(1000 - idle, per(times.backpressuredMs - this.window.backpressuredMs))
    const shares = {
      busyTimeMsPerSecond: span > 0 ? 1000 - idle - backpressured : 0,
      idleTimeMsPerSecond: idle,
      backPressuredTimeMsPerSecond: backpressured,
    }
    if (span >= SHARE_WINDOW_MS) {
      this.window = { at: times.at, idleMs: times.idleMs, backpressuredMs: times.backpressuredMs }
      this.shares = shares
    }
    return shares
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

/** One subtask's flow-control state and time shares. */
export interface SubtaskMetricsSnapshot extends TimeShares {
  readonly vertex: string
  readonly subtask: number
  readonly status: SubtaskMetrics['status']
  /** Milliseconds since the subtask was created spent busy, idle and backpressured (see {@link SubtaskActivity}). */
  readonly busyMs: number
  readonly idleMs: number
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

/** One connector's counters and gauges in one subtask (its {@link MetricGroup}). */
export interface ConnectorMetricsSnapshot {
  /** The connector's name (the group's), e.g. `kafka`. */
  readonly connector: string
  /** The uid of the operator that runs it (the source or sink). */
  readonly operator: string
  readonly vertex: string
  readonly subtask: number
  /** Counts that only grow, by name. */
  readonly counters: Readonly<Record<string, number>>
  /** Values read now, by name. */
  readonly gauges: Readonly<Record<string, number>>
}

/** A point-in-time view of a running or finished job. */
export interface JobMetricsSnapshot {
  readonly elapsedMs: number
  readonly restarts: number
  readonly operators: readonly OperatorMetricsSnapshot[]
  readonly subtasks: readonly SubtaskMetricsSnapshot[]
  readonly details: readonly OperatorDetailSnapshot[]
  /** Every connector's metric group, counters and gauges apart (they are in `details` too, merged). */
  readonly connectors: readonly ConnectorMetricsSnapshot[]
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
      connectors: this.subtasks.flatMap((s) => s.connectors()),
      subtasks: this.subtasks.map((s) => subtaskSnapshot(s)),
    }
  }
}

/**
 * One subtask's counters as plain data: what `job.metrics()` shows of it, and what a worker thread
 * sends the coordinator of the subtasks it runs.
 *
 * @example
 * subtaskSnapshot(metrics).operators[0]?.recordsOut
 */
export function subtaskSnapshot(s: SubtaskMetrics): SubtaskMetricsSnapshot {
  const times = s.times()
  return {
    vertex: s.vertex,
    subtask: s.subtask,
    status: s.status,
    busyMs: times.busyMs,
    idleMs: times.idleMs,
    backpressuredMs: times.backpressuredMs,
    ...s.timeShares(times),
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
