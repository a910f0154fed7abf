import type { CheckpointStats } from '../checkpoint/checkpoint-types.js'
import type { QueryableRegistry } from '../queryable/queryable-registry.js'
import type { ErrorChain } from '../util/error-chain.js'
import type { JobVertex } from './job-graph.js'
import type { JobMetricsSnapshot } from './job-metrics.js'

/** Where a job is in its life. */
export type JobStatus = 'initializing' | 'running' | 'restarting' | 'finished' | 'cancelled' | 'failed'

/** A failure of a job: the root cause with stack and cause chain, and whether the job restarted after it. */
export interface JobException {
  readonly time: number
  readonly restarted: boolean
  readonly error: ErrorChain
}

/** What the job server and the metrics read of a job, and the three things they can ask of it. */
export interface RegisteredJob {
  readonly id: string
  readonly name: string
  readonly startedAt: number
  readonly status: JobStatus
  readonly vertices: readonly JobVertex[]
  readonly queryables: QueryableRegistry
  metrics(): JobMetricsSnapshot
  checkpoints(): CheckpointStats[]
  exceptions(): readonly JobException[]
  cancel(): Promise<void>
  triggerSavepoint(directory: string): Promise<string>
  stopWithSavepoint(directory: string): Promise<string>
}

/** Ended jobs kept for the server to show, newest last. */
const RETAINED_ENDED = 16

/**
 * The jobs of this process: every job registers as it starts and stays listed after it ends (the last
 * 16 ended ones are kept), so a job server or a metrics scrape sees them without being handed them.
 * `jobRegistry` is the process-wide one.
 *
 * Threading: used only on the main event loop; `list()` returns a copy.
 *
 * @example
 * jobRegistry.list().filter((job) => job.status === 'running').map((job) => job.name)
 */
export class JobRegistry {
  private readonly jobs = new Map<string, RegisteredJob>()
  private readonly ended: string[] = []

  /** @internal A job starts. */
  add(job: RegisteredJob): void {
    this.jobs.set(job.id, job)
  }

  /**
   * @internal A job ended: what stays listed of it until 16 later jobs have ended is `archived`, which
   * replaces the running job's entry (the job handle gives an `ArchivedJob`, holding nothing of its runtime).
   */
  markEnded(archived: RegisteredJob): void {
    if (this.jobs.has(archived.id)) this.jobs.set(archived.id, archived)
    this.ended.push(archived.id)
    while (this.ended.length > RETAINED_ENDED) this.jobs.delete(this.ended.shift()!)
  }

  get(id: string): RegisteredJob | undefined {
    return this.jobs.get(id)
  }

  /** Running and recently ended jobs, oldest first. */
  list(): RegisteredJob[] {
    return [...this.jobs.values()]
  }
}

/**
 * The process-wide job registry that `executeAsync()` registers into and the job server reads.
 *
 * @example
 * jobRegistry.get(job.id)?.status // 'running'
 */
export const jobRegistry = new JobRegistry()
