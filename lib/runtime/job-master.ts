import type { Behavior, BehaviorFactory } from '../actors/behavior.js'
import type { ResolvedConfig } from './job-config.js'
import type { ResolvedCheckpointConfig } from '../checkpoint/checkpoint-config.js'
import type { CheckpointAck, CheckpointCoordinator } from '../checkpoint/checkpoint-coordinator.js'
import type { CheckpointMetadata } from '../checkpoint/checkpoint-types.js'
import type { RestoreSource } from '../checkpoint/state-assignment.js'
import { StateError } from '../errors.js'
import type { Logger } from '../logging.js'
import type { JobVertex } from './job-graph.js'
import { MetricsRegistry } from './job-metrics.js'
import type { DeadLetter } from './output-tag.js'
import type { QueryableRegistry } from '../queryable/queryable-registry.js'
import { planDeployment } from './deployment-plan.js'
import type { SubtaskHost } from './subtask-host.js'
import type { SubtaskControl } from './subtask-message.js'

/** A savepoint someone waits for. */
export interface SavepointRequest {
  readonly resolve: (metadata: CheckpointMetadata) => void
  readonly reject: (error: unknown) => void
  /** Stop with this savepoint: sources emit nothing after its barrier, and no checkpoint follows it. */
  readonly stop: boolean
}

/**
 * What the job master is told. Messages from a deployment carry its `attempt`: a restart keeps the
 * mailbox, and a message of an earlier deployment must not act on the new one.
 */
export type JobMasterMessage =
  | { readonly t: 'subtask-running'; readonly attempt: number }
  | { readonly t: 'subtask-ended'; readonly key: string; readonly attempt: number }
  | { readonly t: 'subtask-finished'; readonly attempt: number }
  | { readonly t: 'cancel' }
  | { readonly t: 'trigger-checkpoint'; readonly savepoint?: SavepointRequest; readonly attempt?: number }
  | { readonly t: 'ack'; readonly ack: CheckpointAck; readonly attempt: number }
  | { readonly t: 'checkpoint-completed'; readonly metadata: CheckpointMetadata; readonly attempt: number }
  | { readonly t: 'decline'; readonly checkpointId: number; readonly reason: string; readonly attempt: number }

/** The job as the master runs it, across restarts; the handle reads and reacts through it. */
export interface JobRuntime {
  readonly name: string
  readonly vertices: readonly JobVertex[]
  readonly config: ResolvedConfig
  readonly log: Logger
  /** The metrics of the current deployment. */
  metrics: MetricsRegistry
  readonly startedAt: number
  restarts: number
  readonly deadLetter: (letter: DeadLetter) => void
  readonly onFinished: () => void
  /** Every subtask of the current deployment is running. */
  readonly onRunning: () => void
  readonly checkpointing: ResolvedCheckpointConfig | undefined
  readonly coordinator: CheckpointCoordinator | undefined
  /** What the next deployment restores: the latest complete checkpoint, or the savepoint to start from. */
  restore: RestoreSource | undefined
  /** The queryable states the current deployment serves. */
  readonly queryables: QueryableRegistry
  /** Deployments so far: the current one's number tags its messages. */
  deployments: number
  /** Where the subtasks run: on this thread, or on worker threads. */
  readonly host: SubtaskHost
}

/**
 * The job master (an actor): deploys one actor per subtask as its children, wires their channels,
 * runs the checkpoint protocol with the coordinator (triggers, acknowledgements, completion notices,
 * the final checkpoint once all input has ended), and reports when every subtask has finished. A
 * subtask failure escalates to it; its supervisor (the job's restart strategy) restarts it, which stops
 * the old subtasks and deploys anew from the latest complete checkpoint.
 *
 * @example
 * system.spawn(jobMasterBehavior(runtime), { name: 'job-master', supervision: restartSupervision })
 */
export function jobMasterBehavior(job: JobRuntime): BehaviorFactory<JobMasterMessage> {
  return (ctx) => {
    const attempt = { cancelled: false, number: ++job.deployments }
    job.queryables.clear()
    if (job.coordinator !== undefined) job.coordinator.pinned = job.restore?.metadata.id
    const metrics = new MetricsRegistry(job.startedAt)
    metrics.restarts = job.restarts
    job.metrics = metrics
    const deployments = planDeployment(job.vertices, {
      attempt: attempt.number,
      channelCredits: job.config.channelCredits,
      restore: job.restore?.metadata,
      checkpointing: job.checkpointing,
    })
    const coordinator = job.coordinator
    const subtasks = job.host.deploy(
      ctx,
      {
        deployments,
        attempt,
        restore: job.restore,
        metrics,
        // events of a replaced deployment are dropped here, by their attempt
        report: (_key, event) => ctx.self.tell({ ...event, attempt: attempt.number }),
      },
      { ...job, storage: coordinator?.storage },
    )
    const all = deployments.map((d) => d.key)
    const sources = deployments.filter((d) => job.vertices[d.vertexId]!.head.source !== undefined).map((d) => d.key)
    const tellAll = (message: SubtaskControl): void => {
      for (const key of all) subtasks.tell(key, message)
    }
    tellAll({ t: 'start' })
    const ended = new Set<string>()
    const savepoints = new Map<number, SavepointRequest>()
    const timers: NodeJS.Timeout[] = []
    let starting = all.length
    let running = all.length
    let finalCheckpoint: number | undefined
    let finalRequested = false
    let stopping = false

    const trigger = (savepoint?: SavepointRequest, final = false): void => {
      if (coordinator === undefined) {
        savepoint?.reject(
          new StateError('ERR_CHECKPOINTING_DISABLED', 'savepoints need checkpointing: set checkpointing.intervalMs'),
        )
        return
      }
      if (stopping) {
        savepoint?.reject(new StateError('ERR_JOB_STOPPING', 'the job is stopping with a savepoint'))
        return
      }
      const barrier = coordinator.trigger(savepoint !== undefined, Date.now(), final)
      if (barrier === undefined) return
      if (savepoint !== undefined) savepoints.set(barrier.id, savepoint)
      if (final) finalCheckpoint = barrier.id
      stopping = savepoint?.stop === true
      for (const key of new Set([...sources, ...ended]))
        subtasks.tell(key, { t: 'trigger-checkpoint', barrier, stopSource: stopping })
      const timeout = setTimeout(
        () =>
          ctx.self.tell({
            t: 'decline',
            checkpointId: barrier.id,
            reason: `timed out after ${job.checkpointing!.timeoutMs} ms`,
            attempt: attempt.number,
          }),
        job.checkpointing!.timeoutMs,
      )
      timers.push(timeout)
    }
    const maybeFinal = (): void => {
      if (finalRequested && coordinator!.inProgress === 0 && finalCheckpoint === undefined) trigger(undefined, true)
    }
    const stopTimers = (): void => {
      attempt.cancelled = true
      for (const t of timers) clearTimeout(t)
      for (const [, request] of savepoints)
        request.reject(new StateError('ERR_CHECKPOINT_ABORTED', 'the job stopped before the savepoint completed'))
      savepoints.clear()
    }
    if (job.checkpointing !== undefined) {
      const interval = setInterval(
        () => ctx.self.tell({ t: 'trigger-checkpoint', attempt: attempt.number }),
        job.checkpointing.intervalMs,
      )
      timers.push(interval as unknown as NodeJS.Timeout)
    }

    const behavior: Behavior<JobMasterMessage> = {
      receive(message) {
        if (attempt.cancelled) return
        if ('attempt' in message && message.attempt !== undefined && message.attempt !== attempt.number) return
        switch (message.t) {
          case 'cancel':
            return stopTimers()
          case 'subtask-running':
            if (--starting === 0) job.onRunning()
            return
          case 'subtask-finished':
            if (--running === 0) job.onFinished()
            return
          case 'subtask-ended': {
            ended.add(message.key)
            for (const barrier of coordinator?.pendingFor(message.key) ?? [])
              subtasks.tell(message.key, { t: 'trigger-checkpoint', barrier })
            if (ended.size < all.length) return
            if (job.vertices.some((v) => v.nodes.some((n) => n.commitsOnCheckpoint))) {
              finalRequested = true
              maybeFinal()
            } else {
              coordinator?.abortAll('all input has ended and nothing waits for a final checkpoint', 'abandoned')
              tellAll({ t: 'finish' })
            }
            return
          }
          case 'trigger-checkpoint':
            // periodic triggers stop once the final checkpoint is requested
            if ((starting > 0 || finalRequested) && message.savepoint === undefined) return
            return trigger(message.savepoint)
          case 'ack':
            void coordinator!.acknowledge(message.ack).then(
              (metadata) =>
                metadata !== undefined &&
                ctx.self.tell({ t: 'checkpoint-completed', metadata, attempt: attempt.number }),
              (error) =>
                ctx.self.tell({
                  t: 'decline',
                  checkpointId: message.ack.checkpointId,
                  reason: `metadata could not be written: ${(error as Error)?.message}`,
                  attempt: attempt.number,
                }),
            )
            return
          case 'checkpoint-completed': {
            const { metadata } = message
            tellAll({ t: 'checkpoint-complete', checkpointId: metadata.id })
            const request = savepoints.get(metadata.id)
            request?.resolve(metadata)
            savepoints.delete(metadata.id)
            // the final checkpoint, or a stop-with-savepoint: commit (the notices above), then close
            if (metadata.id === finalCheckpoint || request?.stop === true) tellAll({ t: 'finish' })
            else maybeFinal()
            return
          }
          case 'decline': {
            const tooMany = coordinator!.abort(message.checkpointId, message.reason, true)
            tellAll({ t: 'checkpoint-abort', checkpointId: message.checkpointId })
            savepoints
              .get(message.checkpointId)
              ?.reject(
                new StateError('ERR_CHECKPOINT_ABORTED', `savepoint ${message.checkpointId} failed: ${message.reason}`),
              )
            savepoints.delete(message.checkpointId)
            if (message.checkpointId === finalCheckpoint) finalCheckpoint = undefined
            if (tooMany)
              throw new StateError(
                'ERR_CHECKPOINT_FAILURES',
                `checkpoint ${message.checkpointId} failed (${message.reason}) and failures in a row now exceed checkpointing.tolerableFailures`,
                { retriable: true },
              )
            maybeFinal()
          }
        }
      },
      preRestart() {
        job.queryables.clear()
        stopTimers()
        coordinator?.abortAll('the job is restarting')
      },
      postStop() {
        stopTimers()
      },
    }
    return behavior
  }
}
