import type { OperatorTransformation, Partitioning, SourceTransformation, Transformation } from './transformation.js'
import { ConfigError } from '../errors.js'
import { validateParallelism } from '../state/key-groups.js'
import type { OutputTag } from './output-tag.js'
import type { Source } from './source.js'
import type { ErrorPolicy, StreamOperator } from './stream-operator.js'

/** A physical node of a job: a source or an operator (sinks are operators without output). */
export interface StreamNode {
  readonly id: number
  readonly name: string
  readonly uid: string
  readonly parallelism: number
  readonly maxParallelism: number
  readonly source: Source<unknown> | undefined
  readonly createOperator: (() => StreamOperator<any, any>) | undefined
  readonly errorPolicy: ErrorPolicy
  readonly chaining: 'default' | 'new-chain' | 'never'
  readonly isSink: boolean
  /** Commits when a checkpoint completes (exactly-once sinks, acknowledging sources). */
  readonly commitsOnCheckpoint: boolean
  /** Its input is partitioned by key: it gets keyed state and timers. */
  readonly keyed: boolean
  readonly inEdges: StreamEdge[]
  readonly outEdges: StreamEdge[]
}

/** A physical edge: which output of `from` feeds which input of `to`, partitioned how. */
export interface StreamEdge {
  readonly from: StreamNode
  readonly to: StreamNode
  readonly input: 1 | 2
  readonly partitioning: Partitioning
  readonly sideTag: OutputTag<unknown> | undefined
}

/** Settings the graph needs from the environment. */
export interface GraphSettings {
  readonly parallelism: number
  readonly maxParallelism: number
  /** Embedded mode: every node runs once, whatever parallelism it asks for. */
  readonly singleSubtask?: boolean
}

/**
 * The physical plan of a job (Flink's StreamGraph): virtual nodes (partitioning, union, side outputs)
 * resolved into edges, nodes in topological order, parallelism settled and checked.
 *
 * @example
 * const graph = StreamGraph.build(env.sinkTransformations(), { parallelism: 2, maxParallelism: 128 })
 * graph.nodes.map((n) => n.name) // ['numbers', 'map', 'print']
 */
export class StreamGraph {
  private constructor(
    readonly nodes: readonly StreamNode[],
    readonly settings: GraphSettings,
  ) {}

  get sources(): StreamNode[] {
    return this.nodes.filter((n) => n.source !== undefined)
  }

  static build(sinks: readonly Transformation[], settings: GraphSettings): StreamGraph {
    if (sinks.length === 0)
      throw new ConfigError('job', 'no sinks', 'at least one sink (print, sinkTo, collect …) before execute')
    validateParallelism(settings.parallelism, settings.maxParallelism)
    const nodes = new Map<number, StreamNode>()
    const order: StreamNode[] = []

    const visit = (t: SourceTransformation | OperatorTransformation): StreamNode => {
      const known = nodes.get(t.id)
      if (known !== undefined) return known
      const inputs = t.kind === 'operator' ? t.inputs.map((input) => resolve(input, undefined, undefined)) : []
      const maxParallelism = settings.maxParallelism
      const limit = t.kind === 'source' ? t.source.maxParallelism : t.maxParallelism
      const parallelism = settings.singleSubtask
        ? 1
        : (t.parallelism ?? (limit !== undefined ? Math.min(limit, settings.parallelism) : settings.parallelism))
      validateParallelism(parallelism, maxParallelism, `${t.name}.parallelism`)
      if (limit !== undefined && parallelism > limit)
        throw new ConfigError(`${t.name}.parallelism`, parallelism, `at most ${limit} for this ${t.kind}`)
      const keyedInputs = inputs.map((edges) => edges.length > 0 && edges.every((e) => e.partitioning?.kind === 'hash'))
      if (keyedInputs.some((k) => k) && !keyedInputs.every((k) => k)) {
        throw new ConfigError(
          `${t.name} inputs`,
          'one keyed and one unkeyed input',
          'both inputs keyed (keyBy on each) or neither',
        )
      }
      const node: StreamNode = {
        id: t.id,
        name: t.name,
        uid: t.uid ?? `${t.name}#${t.id}`,
        parallelism,
        maxParallelism,
        source: t.kind === 'source' ? t.source : undefined,
        createOperator: t.kind === 'operator' ? t.createOperator : undefined,
        errorPolicy: t.kind === 'operator' ? t.errorPolicy : 'escalate',
        chaining: t.kind === 'operator' ? t.chaining : 'default',
        isSink: t.kind === 'operator' && t.isSink,
        commitsOnCheckpoint:
          t.kind === 'operator' ? t.commitsOnCheckpoint === true : t.source.commitsOnCheckpoint === true,
        keyed: keyedInputs.length > 0 && keyedInputs.every((k) => k),
        inEdges: [],
        outEdges: [],
      }
      inputs.forEach((edges, i) => {
        for (const { from, partitioning, sideTag } of edges) {
          const edge: StreamEdge = {
            from,
            to: node,
            input: (i + 1) as 1 | 2,
            partitioning: settle(partitioning, from, node),
            sideTag,
          }
          node.inEdges.push(edge)
          from.outEdges.push(edge)
        }
      })
      nodes.set(t.id, node)
      order.push(node)
      return node
    }

    type Resolved = {
      from: StreamNode
      partitioning: Partitioning | undefined
      sideTag: OutputTag<unknown> | undefined
    }
    const resolve = (
      t: Transformation,
      partitioning: Partitioning | undefined,
      sideTag: OutputTag<unknown> | undefined,
    ): Resolved[] => {
      switch (t.kind) {
        case 'source':
        case 'operator':
          return [{ from: visit(t), partitioning, sideTag }]
        case 'partition':
          return resolve(t.input, t.partitioning, sideTag)
        case 'union':
          return t.inputs.flatMap((input) => resolve(input, partitioning, sideTag))
        case 'side-output':
          return resolve(t.input, partitioning, t.tag)
      }
    }

    for (const sink of sinks) {
      if (sink.kind !== 'operator') throw new ConfigError('sink', sink.kind, 'an operator node')
      visit(sink)
    }
    const uids = new Set<string>()
    for (const node of order) {
      if (uids.has(node.uid))
        throw new ConfigError(`${node.name}.uid`, node.uid, 'a uid no other operator of the job has')
      uids.add(node.uid)
    }
    return new StreamGraph(order, settings)
  }
}

function settle(partitioning: Partitioning | undefined, from: StreamNode, to: StreamNode): Partitioning {
  if (partitioning === undefined)
    return from.parallelism === to.parallelism ? { kind: 'forward' } : { kind: 'rebalance' }
  if (partitioning.kind === 'forward' && from.parallelism !== to.parallelism) {
    throw new ConfigError(
      `${to.name} input`,
      `forward from parallelism ${from.parallelism} to ${to.parallelism}`,
      'equal parallelism on both sides of forward()',
    )
  }
  return partitioning
}
