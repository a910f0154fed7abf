import {
  type ConnectorMetricsSnapshot,
  SubtaskMetrics,
  type SubtaskMetricsSnapshot,
  subtaskSnapshot,
  type TimeShares,
} from '../job-metrics.js'

/**
 * What a worker thread reports of one of its subtasks: its counters, its operators' own metrics and its
 * connectors' metric groups.
 */
export interface ReportedSubtaskMetrics {
  readonly key: string
  readonly snapshot: SubtaskMetricsSnapshot
  readonly details: ReadonlyArray<{ operator: string; metrics: Readonly<Record<string, unknown>> }>
  readonly connectors: readonly ConnectorMetricsSnapshot[]
}

/** How often a worker thread reports its subtasks' metrics to the coordinator, in ms. */
export const WORKER_METRICS_INTERVAL_MS = 200

/**
 * The metrics of a worker thread's subtasks as plain data, to post to the coordinator. Details that
 * cannot cross a thread (functions, class instances) are up to the operator: they are cloned as
 * structured clone allows.
 *
 * @example
 * post({ t: 'metrics', subtasks: reportMetrics(metricsByKey) })
 */
export function reportMetrics(metrics: ReadonlyMap<string, SubtaskMetrics>): ReportedSubtaskMetrics[] {
  return [...metrics].map(([key, m]) => ({
    key,
    snapshot: subtaskSnapshot(m),
    details: m.details(),
    connectors: m.connectors(),
  }))
}

/**
 * A subtask that runs in a worker thread, as the coordinator's metrics registry sees it: the counters
 * of its latest report (at most {@link WORKER_METRICS_INTERVAL_MS} old while it runs, final once it
 * finished).
 *
 * @example
 * const mirror = new MirroredSubtaskMetrics(report); registry.subtasks.push(mirror); mirror.update(next)
 */
export class MirroredSubtaskMetrics extends SubtaskMetrics {
  private latest: ReportedSubtaskMetrics
  /** The operators' counts of the latest report: `operators`, kept up to date in place. */
  private readonly counts: Array<{ operator: string; recordsIn: number; recordsOut: number }>

  constructor(report: ReportedSubtaskMetrics) {
    const s = report.snapshot
    const counts = s.operators.map((o) => ({ ...o }))
    super(s.vertex, s.subtask, counts, s.inputCapacity, s.mailboxCapacity)
    this.counts = counts
    this.latest = report
    this.details = () => [...this.latest.details]
    this.connectors = () => [...this.latest.connectors]
    this.queuedRecords = () => this.latest.snapshot.queuedRecords
    this.maxQueuedRecords = () => this.latest.snapshot.maxQueuedRecords
    this.bufferedRecords = () => this.latest.snapshot.bufferedRecords
    this.mailboxSize = () => this.latest.snapshot.mailboxSize
    this.watermark = () => this.latest.snapshot.watermark
    this.update(report)
  }

  /** The times of the latest report: the activity is measured in the worker thread. */
  override times(): { busyMs: number; idleMs: number; backpressuredMs: number; at: number } {
    const s = this.latest.snapshot
    return { busyMs: s.busyMs, idleMs: s.idleMs, backpressuredMs: s.backpressuredMs, at: performance.now() }
  }

  /** The time shares of the latest report. */
  override timeShares(): TimeShares {
    const s = this.latest.snapshot
    return {
      busyTimeMsPerSecond: s.busyTimeMsPerSecond,
      idleTimeMsPerSecond: s.idleTimeMsPerSecond,
      backPressuredTimeMsPerSecond: s.backPressuredTimeMsPerSecond,
    }
  }

  /** Takes the counters of a newer report. */
  update(report: ReportedSubtaskMetrics): void {
    this.latest = report
    const s = report.snapshot
    this.status = s.status
    s.operators.forEach((o, i) => {
      const mirror = this.counts[i]
      if (mirror === undefined) return
      mirror.recordsIn = o.recordsIn
      mirror.recordsOut = o.recordsOut
    })
  }
}
