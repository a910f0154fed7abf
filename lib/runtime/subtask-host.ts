import type { ActorContext } from '../actors/behavior.js'
import type { CheckpointStorage } from '../checkpoint/checkpoint-storage.js'
import type { RestoreSource } from '../checkpoint/state-assignment.js'
import type { Logger } from '../logging.js'
import type { QueryableRegistry } from '../queryable/queryable-registry.js'
import type { ResolvedConfig } from './job-config.js'
import type { JobVertex } from './job-graph.js'
import type { MetricsRegistry } from './job-metrics.js'
import type { DeadLetter } from './output-tag.js'
import type { SubtaskDeployment } from './subtask-deployment.js'
import type { SubtaskControl, SubtaskEvent } from './subtask-message.js'

/** The job as a host sees it: what every subtask of it shares, on the coordinating thread. */
export interface HostedJob {
  readonly name: string
  readonly vertices: readonly JobVertex[]
  readonly config: ResolvedConfig
  readonly log: Logger
  readonly deadLetter: (letter: DeadLetter) => void
  readonly queryables: QueryableRegistry
  readonly storage: CheckpointStorage | undefined
}

/** One deployment of a job's subtasks: what to run, and where their events go. */
export interface DeploymentRequest {
  readonly deployments: readonly SubtaskDeployment[]
  /** Set once the deployment is cancelled or replaced. */
  readonly attempt: { readonly cancelled: boolean }
  /** What the deployment restores (its reader; the metadata is in each deployment). */
  readonly restore: RestoreSource | undefined
  /** Where the deployment's subtask metrics are registered. */
  readonly metrics: MetricsRegistry
  /** Tells the job master what subtask `key` reports. */
  readonly report: (key: string, event: SubtaskEvent) => void
}

/** The deployed subtasks, as the job master reaches them. */
export interface DeployedSubtasks {
  tell(key: string, message: SubtaskControl): void
}

/**
 * Where subtasks run (Flink's TaskExecutor): the job master hands a host the deployments of one
 * attempt; the host runs them as actors that are children of the job master — a subtask failure (or
 * the failure of whatever hosts it) escalates to the job master, whose restart stops them all.
 *
 * @example
 * const subtasks = host.deploy(ctx, request, job)
 * subtasks.tell('0-0', { t: 'start' })
 */
export interface SubtaskHost {
  deploy(parent: Pick<ActorContext<unknown>, 'spawn'>, request: DeploymentRequest, job: HostedJob): DeployedSubtasks
}
