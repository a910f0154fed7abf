import type { JobHandle } from '../runtime/job-handle.js'
import { RateMeter } from '../server/rate-meter.js'

/**
 * The one-line status of a running job: records per second into its sinks, the highest backpressure
 * of any subtask, and the last checkpoint.
 *
 * @example
 * const line = new StatusLine(job); setInterval(() => process.stderr.write(`\r${line.render()}`), 1000)
 */
export class StatusLine {
  private readonly meter: RateMeter

  constructor(
    private readonly job: JobHandle,
    private readonly clock: () => number = Date.now,
  ) {
    this.meter = new RateMeter(clock)
  }

  render(): string {
    const now = this.clock()
    const m = this.job.metrics()
    const sinks = new Set(this.job.vertices.filter((v) => v.outputs.length === 0).map((v) => v.name))
    let recordsIn = 0
    let backpressure = 0
    for (const s of m.subtasks) {
      if (sinks.has(s.vertex)) recordsIn += s.operators[0]?.recordsIn ?? 0
      const ratio = s.backPressuredTimeMsPerSecond / 1000
      if (ratio > backpressure) backpressure = ratio
    }
    const rate = this.meter.rate('in', recordsIn)
    const last = this.job
      .checkpoints()
      .filter((c) => c.status === 'completed' && !c.savepoint)
      .at(-1)
    const checkpoint =
      last === undefined
        ? 'no checkpoint yet'
        : `checkpoint #${last.id} ${Math.round((now - last.triggeredAt - last.durationMs) / 1000)} s ago`
    return `${this.job.status} · ${Math.round(rate)} records/s · backpressure ${Math.round(Math.min(1, backpressure) * 100)}% · ${checkpoint} · restarts ${m.restarts}`
  }
}
