/** Latency percentiles of the recent requests of one operator subtask, in milliseconds. */
export interface LatencyPercentiles {
  readonly p50: number
  readonly p95: number
  readonly p99: number
  /** Requests the figures are taken over (the window holds the most recent ones). */
  readonly samples: number
}

/** A plain copy of {@link AsyncIoMetrics} at one moment. */
export interface AsyncIoMetricsSnapshot {
  readonly operator: string
  readonly subtask: number
  readonly capacity: number
  readonly ordered: boolean
  readonly inFlight: number
  readonly queued: number
  readonly held: number
  readonly maxInFlight: number
  readonly maxHeld: number
  readonly completed: number
  readonly failures: number
  readonly timeouts: number
  readonly retries: number
  readonly restored: number
  readonly latencyMs: LatencyPercentiles
}

const WINDOW = 1024

/**
 * The latencies of the last 1,024 requests in a ring; percentiles are computed when read (rarely),
 * so recording one costs a store and no allocation.
 *
 * @example
 * const w = new LatencyWindow(); w.record(12); w.percentiles().p50 // 12
 */
export class LatencyWindow {
  private readonly samples = new Float64Array(WINDOW)
  private next = 0
  private count = 0

  record(ms: number): void {
    this.samples[this.next] = ms
    this.next = (this.next + 1) % WINDOW
    if (this.count < WINDOW) this.count++
  }

  /** Nearest-rank percentiles over the window; zeros when nothing was recorded. */
  percentiles(): LatencyPercentiles {
    if (this.count === 0) return { p50: 0, p95: 0, p99: 0, samples: 0 }
    const sorted = this.samples.slice(0, this.count).sort()
    const at = (p: number): number => sorted[Math.min(this.count - 1, Math.ceil(p * this.count) - 1)]!
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), samples: this.count }
  }
}

/**
 * The live counters of one async operator subtask (`operator.metrics`). Counters count since the
 * subtask (re)started: a restart makes a new instance, which replaces the old one in the registry.
 *
 * @example
 * const m = asyncMetrics('enrich')[0]; if (m.inFlight === m.capacity) log.info('enrich is saturated', m.snapshot())
 */
export class AsyncIoMetrics {
  /** Requests started and not finished: calling, waiting in a shared limiter, or waiting to retry. */
  inFlight = 0
  /** Records accepted but not started, because `capacity` requests were in flight (at most one input batch). */
  queued = 0
  /** Every record the operator holds: in flight, queued, or finished and waiting for its turn to be emitted. */
  held = 0
  maxInFlight = 0
  maxHeld = 0
  /** Requests finished with a result (a timeout fallback included). */
  completed = 0
  /** Requests finished with an error (a timeout under `onTimeout: 'fail'` included). */
  failures = 0
  timeouts = 0
  /** Calls made again after a failed or retried attempt. */
  retries = 0
  /** Requests taken back from a checkpoint and issued again. */
  restored = 0
  readonly latency = new LatencyWindow()

  constructor(
    readonly operator: string,
    readonly subtask: number,
    readonly capacity: number,
    readonly ordered: boolean,
  ) {}

  snapshot(): AsyncIoMetricsSnapshot {
    const {
      operator,
      subtask,
      capacity,
      ordered,
      inFlight,
      queued,
      held,
      maxInFlight,
      maxHeld,
      completed,
      failures,
      timeouts,
      retries,
      restored,
    } = this
    return {
      operator,
      subtask,
      capacity,
      ordered,
      inFlight,
      queued,
      held,
      maxInFlight,
      maxHeld,
      completed,
      failures,
      timeouts,
      retries,
      restored,
      latencyMs: this.latency.percentiles(),
    }
  }
}

const registry = new Map<string, AsyncIoMetrics>()

/**
 * Makes the counters of an operator subtask readable through the deprecated {@link asyncMetrics}; a
 * later one of the same name and subtask (the subtask after a restart) replaces it. The job's own
 * metrics do not go through here: `job.metrics().details` reads each operator's `detailedMetrics()`.
 *
 * @example
 * registerAsyncMetrics(new AsyncIoMetrics('enrich', 0, 100, true))
 */
export function registerAsyncMetrics(metrics: AsyncIoMetrics): void {
  registry.set(`${metrics.operator}#${metrics.subtask}`, metrics)
}

/**
 * The counters of every async operator subtask in this process, by operator name and subtask (the
 * latest instance of each: after a restart, the restarted one), optionally of one operator only.
 *
 * @deprecated Read `job.metrics().details` (entries labelled with the operator's uid and the subtask):
 * the job's metrics, not a registry shared by every job of the process. Kept for this release.
 *
 * @example
 * for (const m of asyncMetrics('enrich')) console.log(m.subtask, m.inFlight, m.latency.percentiles().p99)
 */
export function asyncMetrics(operator?: string): AsyncIoMetrics[] {
  const all = [...registry.values()]
  return (operator === undefined ? all : all.filter((m) => m.operator === operator)).sort(
    (a, b) => a.operator.localeCompare(b.operator) || a.subtask - b.subtask,
  )
}
