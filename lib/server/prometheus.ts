import type { Metric, MetricType, Registry } from 'prom-client'
import type { JobMetricsSnapshot } from '../runtime/job-metrics.js'
import { type JobRegistry, type RegisteredJob, jobRegistry } from '../runtime/job-registry.js'
import { RateMeter } from './rate-meter.js'

type Labels = Record<string, string | number>
type Sample = [labels: Labels, value: number]
interface Scrape {
  readonly at: number
  readonly jobs: ReadonlyArray<{ job: RegisteredJob; metrics: JobMetricsSnapshot }>
}
interface Family {
  readonly name: string
  readonly help: string
  readonly counter: boolean
  readonly labels: readonly string[]
  readonly samples: (scrape: Scrape) => Sample[]
}

// not `job`: Prometheus gives that label to the scrape job and would rename ours to exported_job
const JOB = ['job_name', 'job_id'] as const
const TASK = [...JOB, 'task', 'subtask'] as const
const OPERATOR = [...JOB, 'operator', 'subtask'] as const

/** Options of {@link registerSluiceMetrics}. */
export interface SluiceMetricsOptions {
  /** The jobs exported; default the process-wide registry. */
  jobs?: JobRegistry
  /** Clock for ages and rates; default Date.now. */
  clock?: () => number
}

/**
 * Registers sluice's metrics, named after Flink's in Prometheus style and labelled by job, task
 * (chain), operator and subtask, in a prom-client registry: the job server's, or an embedding
 * service's own, so one `/metrics` shows both. Values are read from the jobs' metrics at each scrape,
 * so registering costs nothing between scrapes. Operator detail metrics (async I/O in flight and
 * latency, late records, connector counters) are exported under their own names from the scrape
 * after they first appear.
 *
 * @example
 * import { Registry } from 'prom-client'
 * const registry = new Registry()
 * registerSluiceMetrics(registry)
 * app.get('/metrics', async (_req, res) => res.type(registry.contentType).send(await registry.metrics()))
 */
export function registerSluiceMetrics(registry: Registry, options: SluiceMetricsOptions = {}): void {
  const jobs = options.jobs ?? jobRegistry
  const clock = options.clock ?? Date.now
  const meter = new RateMeter(clock)
  let last: Scrape | undefined
  // one snapshot per job per scrape, however many families read it
  const scrape = (): Scrape => {
    const at = clock()
    if (last !== undefined && at - last.at < 100) return last
    meter.prune()
    last = { at, jobs: jobs.list().map((job) => ({ job, metrics: job.metrics() })) }
    return last
  }
  const details = new Set<string>()
  // a family is a prom-client metric whose values are computed at collection: no per-series objects,
  // no label hashing, so a scrape of a job with hundreds of subtasks stays cheap
  const add = (family: Family): void => {
    const type = (family.counter ? 'counter' : 'gauge') as unknown as MetricType
    const metric = {
      name: family.name,
      help: family.help,
      type,
      aggregator: 'sum' as const,
      reset() {},
      get: async () => {
        const current = scrape()
        if (family.name === 'sluice_job_uptime_seconds') discoverDetails(current)
        const values = family.samples(current).map(([labels, value]) => ({ labels, value }))
        return { name: family.name, help: family.help, type, aggregator: 'sum' as const, values }
      },
    }
    registry.registerMetric(metric as unknown as Metric)
  }
  const discoverDetails = (s: Scrape): void => {
    for (const { metrics } of s.jobs)
      for (const d of metrics.details)
        for (const [key] of numericLeaves(d.metrics)) {
          if (details.has(key)) continue
          details.add(key)
          const { name, scale } = promName(key)
          add({
            name: `sluice_operator_${name}`,
            help: `Operator metric ${key} (async I/O, windows, connectors).`,
            counter: false,
            labels: OPERATOR,
            samples: (s2) =>
              s2.jobs.flatMap(({ job, metrics: m }) =>
                m.details.flatMap((d2) => {
                  const value = numericLeaves(d2.metrics).get(key)
                  return value === undefined ? [] : [[opLabels(job, d2.operator, d2.subtask), value * scale] as Sample]
                }),
              ),
          })
        }
  }
  for (const family of families(meter, clock)) add(family)
}

const jobLabels = (job: RegisteredJob): Labels => ({ job_name: job.name, job_id: job.id })
const opLabels = (job: RegisteredJob, operator: string, subtask: number): Labels => ({
  ...jobLabels(job),
  operator,
  subtask,
})

/** The fixed families: job, checkpoint, task (flow control, watermarks) and operator records. */
function families(meter: RateMeter, clock: () => number): Family[] {
  const perJob = (f: (job: RegisteredJob, m: JobMetricsSnapshot) => number | undefined) => (s: Scrape) =>
    s.jobs.flatMap(({ job, metrics }) => {
      const v = f(job, metrics)
      return v === undefined ? [] : [[jobLabels(job), v] as Sample]
    })
  const perTask =
    (f: (job: RegisteredJob, t: JobMetricsSnapshot['subtasks'][number]) => number | undefined) => (s: Scrape) =>
      s.jobs.flatMap(({ job, metrics }) =>
        metrics.subtasks.flatMap((t) => {
          const v = f(job, t)
          return v === undefined ? [] : [[{ ...jobLabels(job), task: t.vertex, subtask: t.subtask }, v] as Sample]
        }),
      )
  const perOperator =
    (
      f: (
        job: RegisteredJob,
        o: { operator: string; recordsIn: number; recordsOut: number },
        subtask: number,
      ) => number,
    ) =>
    (s: Scrape) =>
      s.jobs.flatMap(({ job, metrics }) =>
        metrics.subtasks.flatMap((t) =>
          t.operators.map((o) => [opLabels(job, o.operator, t.subtask), f(job, o, t.subtask)] as Sample),
        ),
      )
  const completed = (job: RegisteredJob) => job.checkpoints().filter((c) => c.status === 'completed' && !c.savepoint)
  const lastCompleted = (job: RegisteredJob) => completed(job).at(-1)
  const family = (
    name: string,
    help: string,
    counter: boolean,
    labels: readonly string[],
    samples: Family['samples'],
  ): Family => ({
    name,
    help,
    counter,
    labels,
    samples,
  })
  return [
    family(
      'sluice_job_uptime_seconds',
      'Seconds since the job started (Flink uptime).',
      false,
      JOB,
      perJob((job) => (clock() - job.startedAt) / 1000),
    ),
    family(
      'sluice_job_running',
      '1 while the job runs, 0 otherwise.',
      false,
      JOB,
      perJob((job) => (job.status === 'running' ? 1 : 0)),
    ),
    family(
      'sluice_job_restarts_total',
      'Restarts of the job (Flink numRestarts).',
      true,
      JOB,
      perJob((_j, m) => m.restarts),
    ),
    family(
      'sluice_job_dead_letters_total',
      'Records sent to the dead-letter output.',
      true,
      JOB,
      perJob((_j, m) => m.deadLetters),
    ),
    family(
      'sluice_job_checkpoints_completed_total',
      'Completed checkpoints (Flink numberOfCompletedCheckpoints).',
      true,
      JOB,
      perJob((job) => completed(job).length),
    ),
    family(
      'sluice_job_checkpoints_failed_total',
      'Failed checkpoints (Flink numberOfFailedCheckpoints).',
      true,
      JOB,
      perJob((job) => job.checkpoints().filter((c) => c.status === 'failed').length),
    ),
    family(
      'sluice_job_checkpoints_in_progress',
      'Checkpoints in progress.',
      false,
      JOB,
      perJob((job) => job.checkpoints().filter((c) => c.status === 'in-progress').length),
    ),
    family(
      'sluice_job_last_checkpoint_duration_seconds',
      'Duration of the last completed checkpoint (Flink lastCheckpointDuration).',
      false,
      JOB,
      perJob((job) => seconds(lastCompleted(job)?.durationMs)),
    ),
    family(
      'sluice_job_last_checkpoint_size_bytes',
      'Size of the last completed checkpoint (Flink lastCheckpointSize).',
      false,
      JOB,
      perJob((job) => lastCompleted(job)?.bytes),
    ),
    family(
      'sluice_job_last_checkpoint_age_seconds',
      'Seconds since the last completed checkpoint ended.',
      false,
      JOB,
      perJob((job) => {
        const c = lastCompleted(job)
        return c === undefined ? undefined : (clock() - c.triggeredAt - c.durationMs) / 1000
      }),
    ),
    family(
      'sluice_operator_records_in_total',
      'Records into the operator (Flink numRecordsIn).',
      true,
      OPERATOR,
      perOperator((_j, o) => o.recordsIn),
    ),
    family(
      'sluice_operator_records_out_total',
      'Records out of the operator (Flink numRecordsOut).',
      true,
      OPERATOR,
      perOperator((_j, o) => o.recordsOut),
    ),
    family(
      'sluice_operator_records_in_per_second',
      'Records into the operator per second (Flink numRecordsInPerSecond).',
      false,
      OPERATOR,
      perOperator((job, o, i) => meter.rate(`${job.id}/${o.operator}/${i}/in`, o.recordsIn)),
    ),
    family(
      'sluice_operator_records_out_per_second',
      'Records out of the operator per second (Flink numRecordsOutPerSecond).',
      false,
      OPERATOR,
      perOperator((job, o, i) => meter.rate(`${job.id}/${o.operator}/${i}/out`, o.recordsOut)),
    ),
    family(
      'sluice_task_back_pressured_seconds_total',
      'Seconds the subtask waited for credit or a sink.',
      true,
      TASK,
      perTask((_j, t) => t.backpressuredMs / 1000),
    ),
    family(
      'sluice_task_busy_seconds_total',
      'Seconds the subtask was neither idle nor backpressured.',
      true,
      TASK,
      perTask((_j, t) => t.busyMs / 1000),
    ),
    family(
      'sluice_task_idle_seconds_total',
      'Seconds the subtask waited for input.',
      true,
      TASK,
      perTask((_j, t) => t.idleMs / 1000),
    ),
    family(
      'sluice_task_back_pressured_ratio',
      'Share of the last second the subtask was backpressured, 0 to 1 (Flink backPressuredTimeMsPerSecond / 1000).',
      false,
      TASK,
      perTask((_j, t) => t.backPressuredTimeMsPerSecond / 1000),
    ),
    family(
      'sluice_task_busy_ratio',
      'Share of the last second the subtask was busy, 0 to 1 (Flink busyTimeMsPerSecond / 1000).',
      false,
      TASK,
      perTask((_j, t) => t.busyTimeMsPerSecond / 1000),
    ),
    family(
      'sluice_task_idle_ratio',
      'Share of the last second the subtask waited for input, 0 to 1 (Flink idleTimeMsPerSecond / 1000).',
      false,
      TASK,
      perTask((_j, t) => t.idleTimeMsPerSecond / 1000),
    ),
    family(
      'sluice_task_input_pool_usage',
      'Fill of the input queues, 0 to 1 (Flink inPoolUsage).',
      false,
      TASK,
      perTask((_j, t) => (t.inputCapacity > 0 ? t.queuedRecords / t.inputCapacity : 0)),
    ),
    family(
      'sluice_task_input_queue_records',
      'Records waiting in the input queues.',
      false,
      TASK,
      perTask((_j, t) => t.queuedRecords),
    ),
    family(
      'sluice_task_output_buffered_records',
      'Records in open output batches and batches waiting for credit.',
      false,
      TASK,
      perTask((_j, t) => t.bufferedRecords),
    ),
    family(
      'sluice_task_mailbox_usage',
      'Fill of the subtask mailbox, 0 to 1.',
      false,
      TASK,
      perTask((_j, t) => (t.mailboxCapacity > 0 ? t.mailboxSize / t.mailboxCapacity : 0)),
    ),
    family(
      'sluice_task_current_input_watermark_seconds',
      'The minimum watermark over the inputs, in Unix seconds (Flink currentInputWatermark).',
      false,
      TASK,
      perTask((_j, t) => (Number.isFinite(t.watermark) ? t.watermark / 1000 : undefined)),
    ),
    family(
      'sluice_task_watermark_lag_seconds',
      'Processing time minus the input watermark.',
      false,
      TASK,
      perTask((_j, t) => (Number.isFinite(t.watermark) ? (clock() - t.watermark) / 1000 : undefined)),
    ),
  ]
}

const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000)

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

/**
 * A detail metric's Prometheus name, in base units: `inFlight` → `in_flight`, `latencyMs_p99` →
 * `latency_seconds_p99` (values scaled by 1/1000).
 */
function promName(key: string): { name: string; scale: number } {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]/g, '_')
    .toLowerCase()
    .split('_')
  const ms = words.indexOf('ms')
  if (ms >= 0) words[ms] = 'seconds'
  return { name: words.join('_'), scale: ms >= 0 ? 0.001 : 1 }
}
