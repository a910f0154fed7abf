import type { JobMetricsSnapshot } from '../runtime/job-metrics.js'
import type { RegisteredJob } from '../runtime/job-registry.js'
import type { RateMeter } from './rate-meter.js'

/** The labels of one series, and its label block in the text format, rendered once per scrape. */
export interface Series {
  readonly labels: Readonly<Record<string, string | number>>
  block?: string
}

/** One job as one scrape sees it: its snapshot and the series of each thing it labels. */
export interface JobScrape {
  readonly job: RegisteredJob
  readonly metrics: JobMetricsSnapshot
  /** `job_name`, `job_id`. */
  readonly series: Series
  /** Per entry of `metrics.subtasks`: the job's labels, `task`, `subtask`. */
  readonly tasks: readonly Series[]
  /** Per entry of `metrics.subtasks`, per operator of its chain: the job's labels, `operator`, `subtask`. */
  readonly operators: ReadonlyArray<readonly Series[]>
  /** Per entry of `metrics.details`: the job's labels, `operator`, `subtask`. */
  readonly details: readonly Series[]
  /** Per entry of `metrics.details`: its numeric values, one level of nesting flattened. */
  readonly detailValues: ReadonlyArray<ReadonlyMap<string, number>>
  /** Per entry of `metrics.connectors`: the job's labels, `task`, `operator`, `subtask`, `connector`. */
  readonly connectors: readonly Series[]
}

/** What every family reads: the jobs at one instant. */
export interface Scrape {
  readonly at: number
  readonly jobs: readonly JobScrape[]
}

/** Receives one sample; the family's name is the caller's. */
export type Emit = (series: Series, value: number) => void

/**
 * A metric family whose samples are computed at collection: no per-series objects kept, no label
 * hashing, so a scrape of a job with hundreds of subtasks stays cheap.
 */
export interface Family {
  readonly name: string
  readonly help: string
  readonly counter: boolean
  readonly samples: (scrape: Scrape, emit: Emit) => void
}

type Subtask = JobMetricsSnapshot['subtasks'][number]
type Operator = Subtask['operators'][number]

/**
 * The fixed families: job, checkpoint, task (flow control, time shares, watermarks) and operator records.
 *
 * @example
 * for (const f of fixedFamilies(meter, Date.now)) f.samples(scrape, (series, value) => lines.push(value))
 */
export function fixedFamilies(meter: RateMeter, clock: () => number): Family[] {
  const perJob = (f: (job: RegisteredJob, m: JobMetricsSnapshot) => number | undefined) => (s: Scrape, emit: Emit) => {
    for (const j of s.jobs) {
      const v = f(j.job, j.metrics)
      if (v !== undefined) emit(j.series, v)
    }
  }
  const perTask = (f: (job: RegisteredJob, t: Subtask) => number | undefined) => (s: Scrape, emit: Emit) => {
    for (const j of s.jobs) {
      const subtasks = j.metrics.subtasks
      for (let i = 0; i < subtasks.length; i++) {
        const v = f(j.job, subtasks[i]!)
        if (v !== undefined) emit(j.tasks[i]!, v)
      }
    }
  }
  const perOperator = (f: (job: RegisteredJob, o: Operator, subtask: number) => number) => (s: Scrape, emit: Emit) => {
    for (const j of s.jobs) {
      const subtasks = j.metrics.subtasks
      for (let i = 0; i < subtasks.length; i++) {
        const t = subtasks[i]!
        const series = j.operators[i]!
        for (let k = 0; k < t.operators.length; k++) emit(series[k]!, f(j.job, t.operators[k]!, t.subtask))
      }
    }
  }
  const completed = (job: RegisteredJob) => job.checkpoints().filter((c) => c.status === 'completed' && !c.savepoint)
  const lastCompleted = (job: RegisteredJob) => completed(job).at(-1)
  const family = (name: string, help: string, counter: boolean, samples: Family['samples']): Family => ({
    name,
    help,
    counter,
    samples,
  })
  return [
    family(
      'sluice_job_uptime_seconds',
      'Seconds since the job started (Flink uptime).',
      false,
      perJob((job) => (clock() - job.startedAt) / 1000),
    ),
    family(
      'sluice_job_running',
      '1 while the job runs, 0 otherwise.',
      false,
      perJob((job) => (job.status === 'running' ? 1 : 0)),
    ),
    family(
      'sluice_job_restarts_total',
      'Restarts of the job (Flink numRestarts).',
      true,
      perJob((_j, m) => m.restarts),
    ),
    family(
      'sluice_job_dead_letters_total',
      'Records sent to the dead-letter output.',
      true,
      perJob((_j, m) => m.deadLetters),
    ),
    family(
      'sluice_job_checkpoints_completed_total',
      'Completed checkpoints (Flink numberOfCompletedCheckpoints).',
      true,
      perJob((job) => completed(job).length),
    ),
    family(
      'sluice_job_checkpoints_failed_total',
      'Failed checkpoints (Flink numberOfFailedCheckpoints).',
      true,
      perJob((job) => job.checkpoints().filter((c) => c.status === 'failed').length),
    ),
    family(
      'sluice_job_checkpoints_in_progress',
      'Checkpoints in progress.',
      false,
      perJob((job) => job.checkpoints().filter((c) => c.status === 'in-progress').length),
    ),
    family(
      'sluice_job_last_checkpoint_duration_seconds',
      'Duration of the last completed checkpoint (Flink lastCheckpointDuration).',
      false,
      perJob((job) => seconds(lastCompleted(job)?.durationMs)),
    ),
    family(
      'sluice_job_last_checkpoint_size_bytes',
      'Size of the last completed checkpoint (Flink lastCheckpointSize).',
      false,
      perJob((job) => lastCompleted(job)?.bytes),
    ),
    family(
      'sluice_job_last_checkpoint_age_seconds',
      'Seconds since the last completed checkpoint ended.',
      false,
      perJob((job) => {
        const c = lastCompleted(job)
        return c === undefined ? undefined : (clock() - c.triggeredAt - c.durationMs) / 1000
      }),
    ),
    family(
      'sluice_operator_records_in_total',
      'Records into the operator (Flink numRecordsIn).',
      true,
      perOperator((_j, o) => o.recordsIn),
    ),
    family(
      'sluice_operator_records_out_total',
      'Records out of the operator (Flink numRecordsOut).',
      true,
      perOperator((_j, o) => o.recordsOut),
    ),
    family(
      'sluice_operator_records_in_per_second',
      'Records into the operator per second (Flink numRecordsInPerSecond).',
      false,
      perOperator((job, o, i) => meter.rate(`${job.id}/${o.operator}/${i}/in`, o.recordsIn)),
    ),
    family(
      'sluice_operator_records_out_per_second',
      'Records out of the operator per second (Flink numRecordsOutPerSecond).',
      false,
      perOperator((job, o, i) => meter.rate(`${job.id}/${o.operator}/${i}/out`, o.recordsOut)),
    ),
    family(
      'sluice_task_back_pressured_seconds_total',
      'Seconds the subtask waited for credit or a sink.',
      true,
      perTask((_j, t) => t.backpressuredMs / 1000),
    ),
    family(
      'sluice_task_busy_seconds_total',
      'Seconds the subtask was neither idle nor backpressured.',
      true,
      perTask((_j, t) => t.busyMs / 1000),
    ),
    family(
      'sluice_task_idle_seconds_total',
      'Seconds the subtask waited for input.',
      true,
      perTask((_j, t) => t.idleMs / 1000),
    ),
    family(
      'sluice_task_back_pressured_ratio',
      'Share of the last second the subtask was backpressured, 0 to 1 (Flink backPressuredTimeMsPerSecond / 1000).',
      false,
      perTask((_j, t) => t.backPressuredTimeMsPerSecond / 1000),
    ),
    family(
      'sluice_task_busy_ratio',
      'Share of the last second the subtask was busy, 0 to 1 (Flink busyTimeMsPerSecond / 1000).',
      false,
      perTask((_j, t) => t.busyTimeMsPerSecond / 1000),
    ),
    family(
      'sluice_task_idle_ratio',
      'Share of the last second the subtask waited for input, 0 to 1 (Flink idleTimeMsPerSecond / 1000).',
      false,
      perTask((_j, t) => t.idleTimeMsPerSecond / 1000),
    ),
    family(
      'sluice_task_input_pool_usage',
      'Fill of the input queues, 0 to 1 (Flink inPoolUsage).',
      false,
      perTask((_j, t) => (t.inputCapacity > 0 ? t.queuedRecords / t.inputCapacity : 0)),
    ),
    family(
      'sluice_task_input_queue_records',
      'Records waiting in the input queues.',
      false,
      perTask((_j, t) => t.queuedRecords),
    ),
    family(
      'sluice_task_output_buffered_records',
      'Records in open output batches and batches waiting for credit.',
      false,
      perTask((_j, t) => t.bufferedRecords),
    ),
    family(
      'sluice_task_mailbox_usage',
      'Fill of the subtask mailbox, 0 to 1.',
      false,
      perTask((_j, t) => (t.mailboxCapacity > 0 ? t.mailboxSize / t.mailboxCapacity : 0)),
    ),
    family(
      'sluice_task_current_input_watermark_seconds',
      'The minimum watermark over the inputs, in Unix seconds (Flink currentInputWatermark).',
      false,
      perTask((_j, t) => (Number.isFinite(t.watermark) ? t.watermark / 1000 : undefined)),
    ),
    family(
      'sluice_task_watermark_lag_seconds',
      'Processing time minus the input watermark.',
      false,
      perTask((_j, t) => (Number.isFinite(t.watermark) ? (clock() - t.watermark) / 1000 : undefined)),
    ),
  ]
}

const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000)
