import type { CheckpointStats } from '../checkpoint/checkpoint-types.js'
import type { JobMetricsSnapshot, SubtaskMetricsSnapshot } from '../runtime/job-metrics.js'
import type { RegisteredJob } from '../runtime/job-registry.js'
import type { RateMeter } from './rate-meter.js'

/** Flink's backpressure levels: the share of time a subtask could not go on for lack of credit. */
export type BackpressureLevel = 'ok' | 'low' | 'high'

/**
 * Flink's thresholds: ok up to 10 % of the time backpressured, low up to 50 %, high above.
 *
 * @example
 * backpressureLevel(0.3) // 'low'
 */
export function backpressureLevel(ratio: number): BackpressureLevel {
  return ratio <= 0.1 ? 'ok' : ratio <= 0.5 ? 'low' : 'high'
}

/** A watermark as JSON: null before the first (JSON has no -Infinity). */
const finite = (t: number): number | null => (Number.isFinite(t) ? t : null)

/**
 * The JSON views of a job that the REST API answers and the dashboard draws. Rates come from the
 * meter shared by every request, so two polls a second apart see the records per second in between.
 *
 * @example
 * new JobViews(meter).overview(job) // { id, name, status, startTime, duration }
 */
export class JobViews {
  constructor(private readonly meter: RateMeter) {}

  overview(job: RegisteredJob, now = Date.now()) {
    return { id: job.id, name: job.name, status: job.status, startTime: job.startedAt, duration: now - job.startedAt }
  }

  /** The job graph: vertices with parallelism, status and metrics per vertex and subtask, and the edges. */
  detail(job: RegisteredJob, now = Date.now()) {
    const metrics = job.metrics()
    return {
      ...this.overview(job, now),
      restarts: metrics.restarts,
      deadLetters: metrics.deadLetters,
      vertices: job.vertices.map((v) => this.vertex(job, v.id, metrics)),
      edges: job.vertices.flatMap((v) =>
        v.inputs.map((edge) => ({
          source: job.vertices.find((u) => u.nodes.includes(edge.from))!.id,
          target: v.id,
          partitioning: edge.partitioning.kind,
        })),
      ),
    }
  }

  /** One vertex: its operators, totals and per-subtask metrics; undefined for an unknown id. */
  vertex(job: RegisteredJob, id: number, metrics: JobMetricsSnapshot = job.metrics()) {
    const v = job.vertices[id]
    if (v === undefined) return undefined
    const head = v.head.uid
    const tail = v.nodes[v.nodes.length - 1]!.uid
    const subtasks = metrics.subtasks
      .filter((s) => s.vertex === v.name)
      .map((s) => {
        const recordsIn = s.operators.find((o) => o.operator === head)?.recordsIn ?? 0
        const recordsOut = s.operators.find((o) => o.operator === tail)?.recordsOut ?? 0
        return {
          subtask: s.subtask,
          status: s.status,
          recordsIn,
          recordsOut,
          recordsInPerSecond: this.meter.rate(`${job.id}/${v.id}/${s.subtask}/in`, recordsIn),
          recordsOutPerSecond: this.meter.rate(`${job.id}/${v.id}/${s.subtask}/out`, recordsOut),
          ...timeShares(s),
          backpressureRatio: backpressureRatio(s),
          inputQueueFill: s.inputCapacity > 0 ? s.queuedRecords / s.inputCapacity : 0,
          bufferedRecords: s.bufferedRecords,
          watermark: finite(s.watermark),
        }
      })
    const sum = (f: (s: (typeof subtasks)[number]) => number) => subtasks.reduce((n, s) => n + f(s), 0)
    const max = (f: (s: (typeof subtasks)[number]) => number) => subtasks.reduce((m, s) => Math.max(m, f(s)), 0)
    const ratio = max((s) => s.backpressureRatio)
    return {
      id: v.id,
      name: v.name,
      parallelism: v.parallelism,
      operators: v.nodes.map((n) => n.uid),
      status: vertexStatus(subtasks.map((s) => s.status)),
      metrics: {
        recordsIn: sum((s) => s.recordsIn),
        recordsOut: sum((s) => s.recordsOut),
        recordsInPerSecond: sum((s) => s.recordsInPerSecond),
        recordsOutPerSecond: sum((s) => s.recordsOutPerSecond),
        // Flink's vertex view: the busiest and the most backpressured subtask
        maxBusyTimeMsPerSecond: max((s) => s.busyTimeMsPerSecond),
        maxIdleTimeMsPerSecond: max((s) => s.idleTimeMsPerSecond),
        maxBackPressuredTimeMsPerSecond: max((s) => s.backPressuredTimeMsPerSecond),
        backpressureRatio: ratio,
        backpressureLevel: backpressureLevel(ratio),
      },
      subtasks,
    }
  }

  checkpoints(job: RegisteredJob, now = Date.now()) {
    const history = job.checkpoints()
    const completed = history.filter((c) => c.status === 'completed' && !c.savepoint)
    const latest = completed[completed.length - 1]
    const durations = completed.map((c) => c.durationMs)
    return {
      counts: {
        completed: completed.length,
        failed: history.filter((c) => c.status === 'failed').length,
        inProgress: history.filter((c) => c.status === 'in-progress').length,
        savepoints: history.filter((c) => c.savepoint && c.status === 'completed').length,
      },
      summary:
        durations.length === 0
          ? null
          : {
              durationMs: {
                min: Math.min(...durations),
                max: Math.max(...durations),
                avg: durations.reduce((a, b) => a + b, 0) / durations.length,
              },
              bytes: { last: latest!.bytes, max: Math.max(...completed.map((c) => c.bytes)) },
            },
      latest: latest === undefined ? null : { ...latest, ageMs: now - (latest.triggeredAt + latest.durationMs) },
      history: history as readonly CheckpointStats[],
    }
  }

  exceptions(job: RegisteredJob) {
    return { exceptions: [...job.exceptions()].reverse() }
  }

  backpressure(job: RegisteredJob) {
    const metrics = job.metrics()
    return {
      vertices: job.vertices.map((v) => {
        const subtasks = metrics.subtasks
          .filter((s) => s.vertex === v.name)
          .map((s) => {
            const ratio = backpressureRatio(s)
            return {
              subtask: s.subtask,
              ratio,
              level: backpressureLevel(ratio),
              ...timeShares(s),
              backpressuredMs: s.backpressuredMs,
              inputQueueFill: s.inputCapacity > 0 ? s.queuedRecords / s.inputCapacity : 0,
              bufferedRecords: s.bufferedRecords,
            }
          })
        const ratio = subtasks.reduce((m, s) => Math.max(m, s.ratio), 0)
        return { id: v.id, name: v.name, ratio, level: backpressureLevel(ratio), subtasks }
      }),
    }
  }

  watermarks(job: RegisteredJob, now = Date.now()) {
    const metrics = job.metrics()
    return {
      vertices: job.vertices.map((v) => ({
        id: v.id,
        name: v.name,
        subtasks: metrics.subtasks
          .filter((s) => s.vertex === v.name)
          .map((s) => ({
            subtask: s.subtask,
            watermark: finite(s.watermark),
            lagMs: Number.isFinite(s.watermark) ? now - s.watermark : null,
          })),
      })),
    }
  }
}

/** The share of the last second a subtask was backpressured, 0 to 1 (Flink's backpressure ratio). */
const backpressureRatio = (s: SubtaskMetricsSnapshot): number => s.backPressuredTimeMsPerSecond / 1000

/** A subtask's time shares in whole milliseconds per second, as Flink shows them; they still add up to 1000. */
function timeShares(s: SubtaskMetricsSnapshot) {
  const idle = Math.round(s.idleTimeMsPerSecond)
  const backpressured = Math.round(s.backPressuredTimeMsPerSecond)
  const total = Math.round(s.busyTimeMsPerSecond + s.idleTimeMsPerSecond + s.backPressuredTimeMsPerSecond)
  return {
    busyTimeMsPerSecond: Math.max(0, total - idle - backpressured),
    idleTimeMsPerSecond: idle,
    backPressuredTimeMsPerSecond: backpressured,
  }
}

/** A vertex's status from its subtasks': the least advanced one. */
function vertexStatus(statuses: readonly string[]): string {
  for (const s of ['failed', 'deploying', 'running', 'finishing', 'cancelled', 'finished'])
    if (statuses.includes(s)) return s
  return 'deploying'
}
