import type { Metric, MetricType, Registry } from 'prom-client'
import type { JobMetricsSnapshot } from '../runtime/job-metrics.js'
import { type JobRegistry, type RegisteredJob, jobRegistry } from '../runtime/job-registry.js'
import {
  type Emit,
  type Family,
  type JobScrape,
  type Scrape,
  type Series,
  fixedFamilies,
} from './prometheus-families.js'
import { RateMeter } from './rate-meter.js'

/** Options of {@link registerSluiceMetrics}. */
export interface SluiceMetricsOptions {
  /** The jobs exported; default the process-wide registry. */
  jobs?: JobRegistry
  /** Clock for ages and rates; default Date.now. */
  clock?: () => number
}

/** Scrapes closer together than this share one snapshot of every job. */
const SNAPSHOT_REUSE_MS = 100

/**
 * sluice's metrics, named after Flink's in Prometheus style and labelled by job, task (chain), operator,
 * subtask and connector, read from the jobs' metrics at each scrape (nothing is kept between scrapes but
 * the rates). Operator detail metrics (async I/O in flight and latency, late records) become
 * `sluice_operator_<name>` families, and every connector's metric group its own
 * `sluice_connector_<connector>_<name>_total` (counters) and `sluice_connector_<connector>_<name>`
 * (gauges) families, from the scrape where they first appear.
 *
 * `render()` writes the text format directly: each series' label block is rendered once per scrape,
 * however many families it has. `register(registry)` serves the same families through prom-client.
 *
 * @example
 * const metrics = new SluiceMetrics()
 * response.end(metrics.render()) // text/plain; version=0.0.4
 */
export class SluiceMetrics {
  private readonly jobs: JobRegistry
  private readonly clock: () => number
  private readonly families: Family[]
  private readonly names = new Set<string>()
  private readonly registries: Registry[] = []
  private last: Scrape | undefined
  private readonly endedJobs = new WeakMap<RegisteredJob, JobScrape>()

  constructor(options: SluiceMetricsOptions = {}) {
    this.jobs = options.jobs ?? jobRegistry
    this.clock = options.clock ?? Date.now
    this.families = fixedFamilies(new RateMeter(this.clock), this.clock)
    for (const f of this.families) this.names.add(f.name)
  }

  /** Every family in the Prometheus text format (0.0.4), ending in a newline. */
  render(): string {
    const scrape = this.scrape()
    let out = ''
    for (const family of this.families) {
      const name = family.name
      out += `# HELP ${name} ${family.help}\n# TYPE ${name} ${family.counter ? 'counter' : 'gauge'}\n`
      family.samples(scrape, (series, value) => {
        series.block ??= labelBlock(series.labels)
        out += `${name}${series.block} ${format(value)}\n`
      })
    }
    return out
  }

  /** Serves the families through a prom-client registry too; families discovered later join at once. */
  register(registry: Registry): void {
    this.registries.push(registry)
    for (const family of this.families) this.addTo(registry, family)
  }

  private addTo(registry: Registry, family: Family): void {
    const type = (family.counter ? 'counter' : 'gauge') as unknown as MetricType
    const metric = {
      name: family.name,
      help: family.help,
      type,
      aggregator: 'sum' as const,
      reset() {},
      get: async () => {
        const values: Array<{ labels: Series['labels']; value: number }> = []
        family.samples(this.scrape(), (series, value) => void values.push({ labels: series.labels, value }))
        return { name: family.name, help: family.help, type, aggregator: 'sum' as const, values }
      },
    }
    registry.registerMetric(metric as unknown as Metric)
  }

  /** One snapshot of every job, shared by the families of one scrape; new detail and connector families found. */
  private scrape(): Scrape {
    const at = this.clock()
    if (this.last !== undefined && at - this.last.at < SNAPSHOT_REUSE_MS) return this.last
    this.last = { at, jobs: this.jobs.list().map((job) => this.scrapeJob(job)) }
    this.discover(this.last)
    return this.last
  }

  private discover(scrape: Scrape): void {
    for (const j of scrape.jobs) {
      for (const values of j.detailValues)
        for (const key of values.keys()) {
          const { name, scale } = promName(key)
          this.add({
            name: `sluice_operator_${name}`,
            help: `Operator metric ${key} (async I/O, windows).`,
            counter: false,
            samples: (s, emit) => {
              for (const job of s.jobs)
                job.detailValues.forEach((v, i) => {
                  const value = v.get(key)
                  if (value !== undefined) emit(job.details[i]!, value * scale)
                })
            },
          })
        }
      for (const c of j.metrics.connectors) {
        for (const key of Object.keys(c.counters)) this.addConnector(c.connector, key, true)
        for (const key of Object.keys(c.gauges)) this.addConnector(c.connector, key, false)
      }
    }
  }

  private addConnector(connector: string, key: string, counter: boolean): void {
    const { name, scale } = promName(key)
    const base = `sluice_connector_${snake(connector)}_${name}`
    this.add({
      name: counter ? `${base.replace(/_total$/, '')}_total` : base,
      help: `The ${connector} connector's ${counter ? 'counter' : 'gauge'} ${key}.`,
      counter,
      samples: (s: Scrape, emit: Emit) => {
        for (const job of s.jobs)
          job.metrics.connectors.forEach((c, i) => {
            if (c.connector !== connector) return
            const value = counter ? c.counters[key] : c.gauges[key]
            if (value !== undefined) emit(job.connectors[i]!, value * scale)
          })
      },
    })
  }

  /**
   * A job's snapshot and the series it labels; connector groups are families of their own, not
   * operator details. An ended job keeps only its job-level series (as Flink unregisters a finished
   * job's task metrics), read once: the 16 ended jobs a registry retains cost a scrape nothing more.
   */
  private scrapeJob(job: RegisteredJob): JobScrape {
    const ended = job.status === 'finished' || job.status === 'cancelled' || job.status === 'failed'
    if (!ended) return scrapeJob(job, job.metrics())
    let scraped = this.endedJobs.get(job)
    if (scraped === undefined) {
      const m = job.metrics()
      scraped = scrapeJob(job, { ...m, operators: [], subtasks: [], details: [], connectors: [] })
      this.endedJobs.set(job, scraped)
    }
    return scraped
  }

  /** Adds a family unless one of that name exists (the first kind seen wins). */
  private add(family: Family): void {
    if (this.names.has(family.name)) return
    this.names.add(family.name)
    this.families.push(family)
    for (const registry of this.registries) this.addTo(registry, family)
  }
}

/** A job's series, from its snapshot; connector groups are families of their own, not operator details. */
function scrapeJob(job: RegisteredJob, metrics: JobMetricsSnapshot): JobScrape {
  const labels = { job_name: job.name, job_id: job.id }
  const details = metrics.details.filter((d) => typeof d.metrics.connector !== 'string')
  return {
    job,
    metrics: { ...metrics, details },
    series: { labels },
    tasks: metrics.subtasks.map((t) => ({ labels: { ...labels, task: t.vertex, subtask: t.subtask } })),
    operators: metrics.subtasks.map((t) =>
      t.operators.map((o) => ({ labels: { ...labels, operator: o.operator, subtask: t.subtask } })),
    ),
    details: details.map((d) => ({ labels: { ...labels, operator: d.operator, subtask: d.subtask } })),
    detailValues: details.map((d) => numericLeaves(d.metrics)),
    connectors: metrics.connectors.map((c) => ({
      labels: { ...labels, task: c.vertex, operator: c.operator, subtask: c.subtask, connector: c.connector },
    })),
  }
}

/**
 * Registers sluice's metrics (see {@link SluiceMetrics}) in a prom-client registry: the job server's, or
 * an embedding service's own, so one `/metrics` shows both. Registering costs nothing between scrapes.
 *
 * @example
 * import { Registry } from 'prom-client'
 * const registry = new Registry()
 * registerSluiceMetrics(registry)
 * app.get('/metrics', async (_req, res) => res.type(registry.contentType).send(await registry.metrics()))
 */
export function registerSluiceMetrics(registry: Registry, options: SluiceMetricsOptions = {}): void {
  new SluiceMetrics(options).register(registry)
}

/** `{a="x",b="y"}`: values escaped as the text format asks (backslash, quote, newline). */
function labelBlock(labels: Series['labels']): string {
  let out = ''
  for (const key in labels) {
    const value = String(labels[key])
    out += `${out === '' ? '{' : ','}${key}="${/[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, escapeChar) : value}"`
  }
  return out === '' ? '' : `${out}}`
}

const escapeChar = (c: string): string => (c === '\n' ? '\\n' : `\\${c}`)

const format = (v: number): string =>
  Number.isFinite(v) ? String(v) : Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf'

/** Numeric entries of an operator's detail metrics, one level of nesting flattened (`latencyMs.p99` → `latencyMs_p99`). */
function numericLeaves(metrics: Readonly<Record<string, unknown>>): Map<string, number> {
  const out = new Map<string, number>()
  for (const [key, value] of Object.entries(metrics)) {
    if (typeof value === 'number' && Number.isFinite(value)) out.set(key, value)
    else if (value !== null && typeof value === 'object')
      for (const [inner, v] of Object.entries(value))
        if (typeof v === 'number' && Number.isFinite(v)) out.set(`${key}_${inner}`, v)
  }
  return out
}

const snake = (text: string): string =>
  text
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .toLowerCase()

/**
 * A metric's Prometheus name, in base units: `inFlight` → `in_flight`, `latencyMs_p99` →
 * `latency_seconds_p99` (values scaled by 1/1000).
 */
function promName(key: string): { name: string; scale: number } {
  const words = snake(key).split('_')
  const ms = words.indexOf('ms')
  if (ms >= 0) words[ms] = 'seconds'
  return { name: words.join('_'), scale: ms >= 0 ? 0.001 : 1 }
}
