/** A count that only grows; read through its {@link MetricGroup}. */
export interface Counter {
  inc(n?: number): void
}

/**
 * The named counters and gauges of one component of a subtask — a connector's reader or writer —
 * that reach the job's metrics (`job.metrics().details`, labelled with the operator, the subtask and
 * the connector's name) instead of living in public fields. Counting costs one property increment;
 * gauges are read only when a snapshot is taken.
 *
 * A component built outside a job (a test driving a reader) gets a group of its own to read.
 *
 * @example
 * const metrics = new MetricGroup('kafka')
 * const requests = metrics.counter('fetchRequests'); requests.inc()
 * metrics.gauge('bufferedRecords', () => reader.buffered)
 * metrics.value('fetchRequests') // 1
 */
export class MetricGroup {
  private readonly counters = new Map<string, { value: number; inc(n?: number): void }>()
  private readonly gauges = new Map<string, () => number>()

  constructor(
    /** The connector's name, the group's label in the job's metrics. */
    readonly connector: string,
  ) {}

  /** The counter of that name, made at 0 on first use. */
  counter(name: string): Counter {
    let counter = this.counters.get(name)
    if (counter === undefined) {
      const c = {
        value: 0,
        inc(n = 1) {
          c.value += n
        },
      }
      counter = c
      this.counters.set(name, counter)
    }
    return counter
  }

  /** A value read when a snapshot is taken. */
  gauge(name: string, read: () => number): void {
    this.gauges.set(name, read)
  }

  /** The current value of a counter or gauge; undefined for a name never made. */
  value(name: string): number | undefined {
    return this.counters.get(name)?.value ?? this.gauges.get(name)?.()
  }

  /** Calls `visit` for every counter, then every gauge, with its current value: no object per call. */
  forEach(visit: (name: string, value: number, counter: boolean) => void): void {
    for (const [name, c] of this.counters) visit(name, c.value, true)
    for (const [name, read] of this.gauges) visit(name, read(), false)
  }

  /** Every counter and gauge by name, now. */
  values(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [name, c] of this.counters) out[name] = c.value
    for (const [name, read] of this.gauges) out[name] = read()
    return out
  }
}
