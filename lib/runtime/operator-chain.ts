import { KeyGroupRange } from '../state/key-groups.js'
import type { Logger } from '../logging.js'
import type { ProcessingTimeService } from '../time/processing-time.js'
import { ChainedInput } from './chained-input.js'
import { CountedFusedInput, isFusable } from './fused-input.js'
import { OperatorInput } from './operator-input.js'
import { OperatorMetrics } from './operator-metrics.js'
import { OperatorOutput } from './operator-output.js'
import type { Output } from './output.js'
import type { DeadLetter } from './output-tag.js'
import type { StreamOperator } from './stream-operator.js'
import type { StreamEdge, StreamNode } from './stream-graph.js'

/** What a chain needs from the executor that runs it. */
export interface ChainContext {
  readonly subtask: number
  readonly processingTime: ProcessingTimeService
  /** Runs a function inside the subtask between batches. */
  readonly runInMailbox: (fn: () => void) => void
  readonly autoWatermarkIntervalMs: number
  readonly logger: Logger
  /** Whether an edge between two nodes of the chain is a direct call. */
  isChained(edge: StreamEdge): boolean
  /** The output for an edge that is not a direct call: a network writer, or an inline adapter. */
  externalOutput(edge: StreamEdge, chain: OperatorChain): Output<unknown>
  /** Where dead letters go that no stream reads. */
  unreadDeadLetter(letter: DeadLetter): void
}

/**
 * The operators of one subtask, fused (Flink's OperatorChain): each operator's output calls the next
 * operator's input directly, so records cross a chain with no hop and no allocation.
 *
 * @example
 * const chain = new OperatorChain(vertex.nodes, context)
 * chain.open(); chain.input(vertex.head, 1).collect(record, undefined)
 */
export class OperatorChain {
  readonly operators = new Map<number, StreamOperator<any, any>>()
  readonly metrics = new Map<number, OperatorMetrics>()
  /** The outputs source nodes of the chain emit to; each counts its node's records out. */
  readonly sourceOutputs = new Map<number, OperatorOutput<unknown>>()
  /**
   * Per node whose one input is chained, where its upstream's records enter it: its operator's input,
   * or for a map or filter with one target, its fused record path into that target (see
   * `FusableOperator`). Neither counts records in when the upstream feeds this node alone: they are
   * the upstream's records out (`OperatorMetrics.deriveInFrom`).
   */
  private readonly recordPaths = new Map<number, Output<unknown>>()

  constructor(
    readonly nodes: readonly StreamNode[],
    context: ChainContext,
  ) {
    for (const node of nodes) this.metrics.set(node.id, new OperatorMetrics(node.uid, context.subtask))
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i]!
      const { output, single } = this.outputOf(node, context)
      if (node.source !== undefined) {
        this.sourceOutputs.set(node.id, output)
        continue
      }
      const operator = node.createOperator!()
      operator.setup(
        {
          name: node.name,
          uid: node.uid,
          subtask: context.subtask,
          parallelism: node.parallelism,
          maxParallelism: node.maxParallelism,
          keyGroups: node.keyed
            ? KeyGroupRange.forSubtask(node.maxParallelism, node.parallelism, context.subtask)
            : undefined,
          processingTime: context.processingTime,
          errorPolicy: node.errorPolicy,
          runInMailbox: context.runInMailbox,
          autoWatermarkIntervalMs: context.autoWatermarkIntervalMs,
          logger: context.logger.child({ operator: node.name, subtask: context.subtask }),
        },
        output,
      )
      this.operators.set(node.id, operator)
      const feed = node.inEdges.length === 1 ? node.inEdges[0]! : undefined
      if (feed?.input === 1 && context.isChained(feed))
        this.recordPaths.set(node.id, this.recordPath(node, feed, single))
    }
  }

  /** The guarded entry into an operator of the chain, for records that arrive from outside it. */
  input(node: StreamNode, input: 1 | 2): OperatorInput<unknown> {
    return new OperatorInput(this.operators.get(node.id)!, input, this.metrics.get(node.id)!)
  }

  /** Opens the operators, the last first, so each one's downstream is ready before it emits. */
  open(): void {
    for (let i = this.nodes.length - 1; i >= 0; i--) this.operators.get(this.nodes[i]!.id)?.open()
  }

  /** Tells every operator, the first first, that its input has ended; waits for those still working. */
  endInput(): void | Promise<void> {
    for (let i = 0; i < this.nodes.length; i++) {
      const pending = this.operators.get(this.nodes[i]!.id)?.endInput()
      if (pending instanceof Promise) return pending.then(() => this.endInputFrom(i + 1))
    }
  }

  private async endInputFrom(first: number): Promise<void> {
    for (let i = first; i < this.nodes.length; i++) await this.operators.get(this.nodes[i]!.id)?.endInput()
  }

  /** Closes every operator, the first first, waiting for each (sinks flush here). */
  async close(): Promise<void> {
    for (const node of this.nodes) await this.operators.get(node.id)?.close()
  }

  /** Aborts every operator after a failure or cancel; errors are only logged by the caller. */
  async abort(): Promise<void> {
    for (const node of this.nodes) await this.operators.get(node.id)?.abort()
  }

  /**
   * Where the records of `feed`, the node's one input, chained, enter it. Its records in are derived
   * when `feed` is its upstream's only main edge; otherwise they are counted here.
   */
  private recordPath(node: StreamNode, feed: StreamEdge, single: Output<unknown> | undefined): Output<unknown> {
    const operator = this.operators.get(node.id)!
    const metrics = this.metrics.get(node.id)!
    const mainEdges = feed.from.outEdges.filter((e) => e.sideTag === undefined).length
    const derived = feed.sideTag === undefined && mainEdges === 1
    if (derived) metrics.deriveInFrom(this.metrics.get(feed.from.id)!)
    if (single === undefined || !isFusable(operator)) {
      return derived ? new ChainedInput(operator) : this.input(node, 1)
    }
    const fused = operator.fusedInput(this.input(node, 1), single, metrics)
    return derived ? fused : new CountedFusedInput(metrics, fused)
  }

  /** The node's output, and its one target when it has one main target and no side outputs. */
  private outputOf(
    node: StreamNode,
    context: ChainContext,
  ): { output: OperatorOutput<unknown>; single: Output<unknown> | undefined } {
    const main: Output<unknown>[] = []
    const side = new Map<string, Output<unknown>[]>()
    for (const edge of node.outEdges) {
      const target = !context.isChained(edge)
        ? context.externalOutput(edge, this)
        : edge.input === 1
          ? this.recordPaths.get(edge.to.id)!
          : this.input(edge.to, edge.input)
      if (edge.sideTag === undefined) main.push(target)
      else side.set(edge.sideTag.id, [...(side.get(edge.sideTag.id) ?? []), target])
    }
    const output = new OperatorOutput(this.metrics.get(node.id)!, main, side, (letter) =>
      context.unreadDeadLetter(letter),
    )
    return { output, single: main.length === 1 && side.size === 0 ? main[0] : undefined }
  }
}
