import type { ResolvedCheckpointConfig } from '../checkpoint/checkpoint-config.js'
import type { CheckpointMetadata } from '../checkpoint/checkpoint-types.js'
import type { JobVertex } from './job-graph.js'
import { connectedTargets } from './record-writer.js'
import type { StreamNode } from './stream-graph.js'
import {
  type InputChannelSpec,
  type OutputChannelSpec,
  type SubtaskDeployment,
  subtaskMailboxCapacity,
} from './subtask-deployment.js'

/**
 * The deployment of every subtask of a job graph, as data: which subtask sends to which on what
 * channel index, what to restore. Subtasks are listed vertex by vertex, subtask index ascending.
 *
 * @example
 * const deployments = planDeployment(vertices, { attempt: 1, channelCredits: 4, restore: undefined, checkpointing: undefined })
 * deployments.map((d) => d.key) // ['0-0', '0-1', '1-0', '1-1']
 */
export function planDeployment(
  vertices: readonly JobVertex[],
  plan: {
    readonly attempt: number
    readonly channelCredits: number
    readonly restore: CheckpointMetadata | undefined
    readonly checkpointing: ResolvedCheckpointConfig | undefined
  },
): SubtaskDeployment[] {
  const vertexOf = new Map<StreamNode, JobVertex>()
  for (const v of vertices) for (const n of v.nodes) vertexOf.set(n, v)
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
          channels.push({ input: edge.input, upstream: `${up.id}-${u}`, writer, target: d })
        }
      })
      return channels
    }),
  )
  const outputs = (v: JobVertex, u: number): Array<Array<OutputChannelSpec | undefined>> =>
    v.outputs.map((edge) => {
      const down = vertexOf.get(edge.to)!
      const targets: Array<OutputChannelSpec | undefined> = new Array(down.parallelism)
      const e = down.inputs.indexOf(edge)
      for (const d of connectedTargets(edge.partitioning, u, v.parallelism, down.parallelism))
        targets[d] = { receiver: `${down.id}-${d}`, channel: channelIndex.get(`${down.id}:${d}:${e}:${u}`)! }
      return targets
    })
  const checkpointing =
    plan.checkpointing === undefined
      ? undefined
      : {
          mode: plan.checkpointing.mode,
          unaligned: plan.checkpointing.unaligned,
          intervalMs: plan.checkpointing.intervalMs,
        }
  return vertices.flatMap((v) =>
    Array.from({ length: v.parallelism }, (_, i): SubtaskDeployment => {
      const subtaskInputs = inputs[v.id]![i]!
      const subtaskOutputs = outputs(v, i)
      return {
        key: `${v.id}-${i}`,
        vertexId: v.id,
        subtask: i,
        attempt: plan.attempt,
        inputs: subtaskInputs,
        outputs: subtaskOutputs,
        checkpointing,
        restore: plan.restore,
        mailboxCapacity: subtaskMailboxCapacity(subtaskInputs, subtaskOutputs, plan.channelCredits),
      }
    }),
  )
}
