import type { CheckpointStats } from '../checkpoint/checkpoint-types.js'
import { StateError } from '../errors.js'
import { QueryableRegistry } from '../queryable/queryable-registry.js'
import { archivedGraph } from './archived-graph.js'
import type { JobVertex } from './job-graph.js'
import type { JobMetricsSnapshot } from './job-metrics.js'
import type { JobException, JobStatus, RegisteredJob } from './job-registry.js'

/**
 * What the job registry keeps of an ended job (Flink's ArchivedExecutionGraph): its id, name, graph
 * outline ({@link archivedGraph}), final status and metrics, checkpoint history and failures, copied
 * when it ended, and nothing of its runtime or of the user's sources and functions, so a process that
 * runs many jobs does not keep their state (a job of 1,000,000 keys held about 28 MB until 16 later jobs
 * had ended) nor their inputs (a collection source's array). Its queryable states are gone; cancelling does nothing;
 * a savepoint is refused.
 *
 * @example
 * const archived = ArchivedJob.of(job, job.metrics()) // job.status is 'finished', 'cancelled' or 'failed'
 * archived.metrics().operators[0]?.recordsOut
 */
export class ArchivedJob implements RegisteredJob {
  readonly queryables = new QueryableRegistry()

  private constructor(
    readonly id: string,
    readonly name: string,
    readonly startedAt: number,
    readonly status: JobStatus,
    readonly vertices: readonly JobVertex[],
    private readonly finalMetrics: JobMetricsSnapshot,
    private readonly checkpointHistory: readonly CheckpointStats[],
    private readonly failures: readonly JobException[],
  ) {}

  /** The archive of `job`, which has ended with `metrics`. */
  static of(job: RegisteredJob, metrics: JobMetricsSnapshot): ArchivedJob {
    return new ArchivedJob(
      job.id,
      job.name,
      job.startedAt,
      job.status,
      archivedGraph(job.vertices),
      metrics,
      job.checkpoints(),
      [...job.exceptions()],
    )
  }

  metrics(): JobMetricsSnapshot {
    return this.finalMetrics
  }

  checkpoints(): CheckpointStats[] {
    return [...this.checkpointHistory]
  }

  exceptions(): readonly JobException[] {
    return this.failures
  }

  async cancel(): Promise<void> {}

  async triggerSavepoint(_directory: string): Promise<string> {
    throw notRunning()
  }

  async stopWithSavepoint(_directory: string): Promise<string> {
    throw notRunning()
  }
}

function notRunning(): StateError {
  return new StateError('ERR_JOB_NOT_RUNNING', 'the job is not running')
}
