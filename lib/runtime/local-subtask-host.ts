import type { ActorRef } from '../actors/actor-ref.js'
import type { ActorContext } from '../actors/behavior.js'
import { Supervision } from '../actors/supervision.js'
import { SubtaskMetrics } from './job-metrics.js'
import type { OperatorChain } from './operator-chain.js'
import { subtaskBehavior } from './subtask.js'
import type { DeployedSubtasks, DeploymentRequest, HostedJob, SubtaskHost } from './subtask-host.js'
import type { SubtaskMessage } from './subtask-message.js'

/**
 * The single-thread executor's host (the default): every subtask is an actor on the job master's own
 * thread, and channels are mailbox messages between them.
 *
 * @example
 * const subtasks = localSubtaskHost.deploy(ctx, request, job)
 */
export const localSubtaskHost: SubtaskHost = {
  deploy(parent: Pick<ActorContext<unknown>, 'spawn'>, request: DeploymentRequest, job: HostedJob): DeployedSubtasks {
    const refs = new Map<string, ActorRef<SubtaskMessage>>()
    const send = (key: string, message: SubtaskMessage): void => void refs.get(key)!.tell(message)
    for (const d of request.deployments) {
      const vertex = job.vertices[d.vertexId]!
      const ref = parent.spawn(
        subtaskBehavior(d, {
          vertex,
          config: job.config,
          log: job.log,
          attempt: request.attempt,
          send,
          report: (event) => request.report(d.key, event),
          deadLetter: job.deadLetter,
          storage: job.storage,
          readState: request.restore?.read,
          queryables: job.queryables,
          createMetrics: (chain: OperatorChain) => {
            const m = new SubtaskMetrics(
              vertex.name,
              d.subtask,
              [...chain.metrics.values()],
              d.inputs.length * job.config.channelCredits * job.config.batchSize,
              d.mailboxCapacity,
            )
            request.metrics.subtasks.push(m)
            return m
          },
        }),
        { name: d.key, mailboxCapacity: d.mailboxCapacity, supervision: Supervision.escalate() },
      )
      refs.set(d.key, ref)
    }
    return { tell: send }
  },
}
