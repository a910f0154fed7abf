import type { ActorContext } from '../actors/behavior.js'
import type { ActorRef } from '../actors/actor-ref.js'
import type { Behavior, BehaviorFactory } from '../actors/behavior.js'
import { Supervision } from '../actors/supervision.js'
import type { ResolvedConfig } from '../api/environment-config.js'
import type { Logger } from '../logging.js'
import type { JobVertex } from './job-graph.js'
import { MetricsRegistry, SubtaskMetrics } from './job-metrics.js'
import type { OperatorChain } from './operator-chain.js'
import type { DeadLetter } from './output-tag.js'
import { connectedTargets } from './record-writer.js'
import type { StreamNode } from './stream-graph.js'
import { type InputChannelSpec, type OutputChannelSpec, subtaskBehavior, subtaskMailboxCapacity } from './subtask.js'
import type { SubtaskMessage } from './subtask-message.js'

/** What the job master is told. */
export type JobMasterMessage = { readonly t: 'subtask-running' } | { readonly t: 'subtask-finished' } | { readonly t: 'cancel' }

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
}

/**
 * The job master (an actor): deploys one actor per subtask as its children, wires their channels,
 * and reports when every subtask has finished. A subtask failure escalates to it; its supervisor
 * (the job's restart strategy) then restarts it, which stops the old subtasks and deploys anew.
 *
 * @example
 * system.spawn(jobMasterBehavior(runtime), { name: 'job', supervision: restartSupervision(runtime) })
 */
export function jobMasterBehavior(job: JobRuntime): BehaviorFactory<JobMasterMessage> {
  return (ctx) => {
    const attempt = { cancelled: false }
    const metrics = new MetricsRegistry(job.startedAt)
    metrics.restarts = job.restarts
    job.metrics = metrics
    const subtasks = deploy(ctx, job, attempt, metrics)
    let starting = subtasks
    let running = subtasks
    const behavior: Behavior<JobMasterMessage> = {
      receive(message) {
        if (attempt.cancelled) return
        switch (message.t) {
          case 'cancel':
            attempt.cancelled = true
            return
          case 'subtask-running':
            if (--starting === 0) job.onRunning()
            return
          case 'subtask-finished':
            if (--running === 0) job.onFinished()
        }
      },
      preRestart() {
        attempt.cancelled = true
      },
      postStop() {
        attempt.cancelled = true
      },
    }
    return behavior
  }
}

function deploy(ctx: ActorContext<JobMasterMessage>, job: JobRuntime, attempt: { cancelled: boolean }, metrics: MetricsRegistry): number {
  const { vertices, config } = job
  const vertexOf = new Map<StreamNode, JobVertex>()
  for (const v of vertices) for (const n of v.nodes) vertexOf.set(n, v)
  const refs: ActorRef<SubtaskMessage>[][] = vertices.map(() => [])

  const channelIndex = new Map<string, number>()
  const inputs = vertices.map((v) =>
    Array.from({ length: v.parallelism }, (_, d) => {
      const channels: InputChannelSpec[] = []
      v.inputs.forEach((edge, e) => {
        const up = vertexOf.get(edge.from)!
        const writer = up.outputs.indexOf(edge)
        for (let u = 0; u < up.parallelism; u++) {
          if (!connectedTargets(edge.partitioning, u, up.parallelism, v.parallelism).includes(d)) continue
          channelIndex.set(`${v.id}:${d}:${e}:${u}`, channels.length)
          channels.push({ input: edge.input, upstream: () => refs[up.id]![u]!, writer, target: d })
        }
      })
      return channels
    }),
  )
  const outputs = (v: JobVertex, u: number): OutputChannelSpec[][] =>
    v.outputs.map((edge) => {
      const down = vertexOf.get(edge.to)!
      const targets: OutputChannelSpec[] = new Array(down.parallelism)
      const e = down.inputs.indexOf(edge)
      for (const d of connectedTargets(edge.partitioning, u, v.parallelism, down.parallelism)) {
        targets[d] = { receiver: () => refs[down.id]![d]!, channel: channelIndex.get(`${down.id}:${d}:${e}:${u}`)! }
      }
      return targets
    })

  let subtasks = 0
  for (const v of vertices) {
    for (let i = 0; i < v.parallelism; i++) {
      const deployment = {
        vertex: v,
        subtask: i,
        config,
        inputs: inputs[v.id]![i]!,
        outputs: outputs(v, i),
        attempt,
        log: job.log,
        deadLetter: job.deadLetter,
        finished: () => ctx.self.tell({ t: 'subtask-finished' }),
        running: () => ctx.self.tell({ t: 'subtask-running' }),
        createMetrics: (chain: OperatorChain) => {
          const m = new SubtaskMetrics(v.name, i, [...chain.metrics.values()], inputs[v.id]![i]!.length * config.channelCredits * config.batchSize, capacity)
          metrics.subtasks.push(m)
          return m
        },
      }
      const capacity = subtaskMailboxCapacity(deployment)
      refs[v.id]![i] = ctx.spawn(subtaskBehavior(deployment), { name: `${v.id}-${i}`, mailboxCapacity: capacity, supervision: Supervision.escalate() })
      subtasks++
    }
  }
  for (const row of refs) for (const ref of row) ref.tell({ t: 'start' })
  return subtasks
}
