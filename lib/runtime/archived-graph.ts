import { StateError } from '../errors.js'
import type { JobVertex } from './job-graph.js'
import type { StreamEdge, StreamNode } from './stream-graph.js'
import type { Partitioning } from './transformation.js'

/**
 * A copy of a job graph with its shape (vertices, the operators' names and uids, the edges and their
 * partitioning) and none of its runtime: no source, no operator factory, no key selector. It is what
 * an archived job lists, so that an ended job does not keep the user's sources and functions, and what
 * they hold (a collection source its whole array), for as long as it stays listed.
 *
 * @example
 * const outline = archivedGraph(job.vertices)
 * outline[0]!.head.source // undefined
 */
export function archivedGraph(vertices: readonly JobVertex[]): JobVertex[] {
  const nodes = new Map<StreamNode, StreamNode>()
  for (const vertex of vertices)
    for (const node of vertex.nodes)
      nodes.set(node, { ...node, source: undefined, createOperator: undefined, inEdges: [], outEdges: [] })
  const edges = new Map<StreamEdge, StreamEdge>()
  const edge = (e: StreamEdge): StreamEdge => {
    let copy = edges.get(e)
    if (copy === undefined) {
      copy = { ...e, from: nodes.get(e.from)!, to: nodes.get(e.to)!, partitioning: outline(e.partitioning) }
      edges.set(e, copy)
    }
    return copy
  }
  for (const [node, copy] of nodes) {
    copy.inEdges.push(...node.inEdges.map(edge))
    copy.outEdges.push(...node.outEdges.map(edge))
  }
  return vertices.map((v) => ({
    ...v,
    head: nodes.get(v.head)!,
    nodes: v.nodes.map((n) => nodes.get(n)!),
    chainedEdges: new Set([...v.chainedEdges].map(edge)),
    inputs: v.inputs.map(edge),
    outputs: v.outputs.map(edge),
  }))
}

function outline(partitioning: Partitioning): Partitioning {
  return partitioning.kind === 'hash' ? { kind: 'hash', keySelector: endedKeySelector } : partitioning
}

function endedKeySelector(): never {
  throw new StateError('ERR_JOB_NOT_RUNNING', 'the job has ended: its key selector is not kept')
}
