import type { StreamEdge, StreamGraph, StreamNode } from './stream-graph.js'

/**
 * One chain of fused operators and its parallelism (Flink's JobVertex): each of its subtasks is one
 * actor. Only the head has inputs from outside the chain; edges that leave the chain go to the network.
 */
export interface JobVertex {
  readonly id: number
  readonly name: string
  readonly head: StreamNode
  /** The chain's nodes, head first, in topological order. */
  readonly nodes: readonly StreamNode[]
  readonly parallelism: number
  readonly chainedEdges: ReadonlySet<StreamEdge>
  /** Edges into the head from other vertices. */
  readonly inputs: readonly StreamEdge[]
  /** Edges from any node of the chain to other vertices; a subtask has one writer per entry. */
  readonly outputs: readonly StreamEdge[]
}

/**
 * Whether an edge is a direct call: forward, equal parallelism, the target's only input, and neither
 * side asks for a chain break (Flink's chaining rules).
 *
 * @example
 * isChainable(edge, true) // true for map -> filter at the same parallelism
 */
export function isChainable(edge: StreamEdge, chaining: boolean): boolean {
  return (
    chaining &&
    edge.partitioning.kind === 'forward' &&
    edge.from.parallelism === edge.to.parallelism &&
    edge.to.inEdges.length === 1 &&
    edge.to.chaining === 'default' &&
    edge.from.chaining !== 'never'
  )
}

/**
 * Fuses a stream graph into chains.
 *
 * @example
 * buildJobGraph(graph, true).map((v) => v.name) // ['sequence -> map -> filter', 'reduce -> print']
 */
export function buildJobGraph(graph: StreamGraph, chaining: boolean): JobVertex[] {
  const vertices: JobVertex[] = []
  for (const head of graph.nodes) {
    if (head.inEdges.length === 1 && isChainable(head.inEdges[0]!, chaining)) continue
    const nodes: StreamNode[] = []
    const chainedEdges = new Set<StreamEdge>()
    const outputs: StreamEdge[] = []
    const collect = (node: StreamNode): void => {
      nodes.push(node)
      for (const edge of node.outEdges) {
        if (isChainable(edge, chaining)) {
          chainedEdges.add(edge)
          collect(edge.to)
        } else outputs.push(edge)
      }
    }
    collect(head)
    const order = new Map(graph.nodes.map((n, i) => [n, i]))
    nodes.sort((a, b) => order.get(a)! - order.get(b)!)
    vertices.push({
      id: vertices.length,
      name: nodes.map((n) => n.name).join(' -> '),
      head,
      nodes,
      parallelism: head.parallelism,
      chainedEdges,
      inputs: head.inEdges,
      outputs,
    })
  }
  return vertices
}
