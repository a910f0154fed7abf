import type { JobVertex } from '../job-graph.js'

/**
 * How a job graph names and sizes its operators, as one text: a worker that re-ran the entry module
 * must have built the same graph as the coordinator, or the job does not start.
 *
 * @example
 * graphFingerprint(vertices) // 'Source: numbers[numbers ×2/128] → map[map ×2/128]; …'
 */
export function graphFingerprint(vertices: readonly JobVertex[]): string {
  return vertices
    .map(
      (v) =>
        `${v.name}[${v.nodes.map((n) => `${n.uid} ×${n.parallelism}/${n.maxParallelism}`).join(', ')}]` +
        ` → ${v.outputs.map((e) => `${e.to.uid}:${e.partitioning.kind}`).join(', ')}`,
    )
    .join('; ')
}
