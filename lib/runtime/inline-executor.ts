import { ObservableSource } from '../connectors/collections/observable-source.js'
import { ConfigError } from '../errors.js'
import type { Logger } from '../logging.js'
import type { ProcessingTimeService } from '../time/processing-time.js'
import { systemProcessingTime } from '../time/processing-time.js'
import { KeyingOutput } from './keying-output.js'
import { OperatorChain } from './operator-chain.js'
import type { Output } from './output.js'
import type { OutputTag } from './output-tag.js'
import type { StreamEdge, StreamGraph, StreamNode } from './stream-graph.js'
import { WatermarkValve } from './watermark-valve.js'

/**
 * Runs a job inline, in the caller's turn of the event loop: every operator once, called directly, no
 * actors, no checkpoints. This is embedded mode: what an engine operator does in a plain Observable's
 * `pipe`. Sources must be Observables, which push; the run follows their pace.
 *
 * @example
 * const stop = runInline(graph, { error: (e) => sub.error(e), complete: () => sub.complete() }, log)
 */
export function runInline(
  graph: StreamGraph,
  observer: { error(error: unknown): void; complete(): void },
  log: Logger,
  autoWatermarkIntervalMs = 200,
): () => void {
  let finished = false
  const teardown: (() => void)[] = []
  const fail = (error: unknown): void => {
    if (finished) return
    finished = true
    for (const t of teardown) t()
    observer.error(error)
  }
  const processingTime: ProcessingTimeService = {
    now: systemProcessingTime.now,
    scheduleAt: (timestamp, callback) =>
      systemProcessingTime.scheduleAt(timestamp, () => {
        if (finished) return
        try {
          callback()
        } catch (error) {
          fail(error)
        }
      }),
  }
  const valves = new Map<StreamNode, WatermarkValve>()
  const chain = new OperatorChain(graph.nodes, {
    subtask: 0,
    processingTime,
    autoWatermarkIntervalMs,
    logger: log,
    runInMailbox: (fn) => {
      if (finished) return
      try {
        fn()
      } catch (error) {
        fail(error)
      }
    },
    isChained: (edge) => edge.to.inEdges.length === 1 && edge.partitioning.kind !== 'hash',
    externalOutput: (edge, chain) => {
      const operator = chain.operators.get(edge.to.id)!
      const input = chain.input(edge.to, edge.input)
      const base: Output<unknown> =
        edge.partitioning.kind === 'hash'
          ? new KeyingOutput(edge.partitioning.keySelector, edge.to.maxParallelism, operator, input)
          : input
      if (edge.to.inEdges.length === 1) return base
      let valve = valves.get(edge.to)
      if (valve === undefined) {
        valve = new WatermarkValve(
          edge.to.inEdges.length,
          (wm) => operator.processWatermark(wm),
          (idle) => operator.processWatermarkStatus(idle),
        )
        valves.set(edge.to, valve)
      }
      return new ValveOutput(valve, edge.to.inEdges.indexOf(edge as StreamEdge), base)
    },
    unreadDeadLetter: (letter) =>
      log.warn('dead letter', { operator: letter.operator, reason: letter.reason, record: letter.record }),
  })
  teardown.push(() => void chain.abort())

  const sources = graph.sources
  let running = sources.length
  try {
    chain.open()
    for (const node of sources) {
      if (!(node.source instanceof ObservableSource))
        throw new ConfigError(
          'embedded source',
          node.source?.name,
          'an Observable (embedded mode reads Observables only)',
        )
      const output = chain.sourceOutputs.get(node.id)!
      const subscription = node.source.observable.subscribe({
        next: (value) => {
          if (finished) return
          try {
            output.collect(value, undefined)
          } catch (error) {
            fail(error)
          }
        },
        error: fail,
        complete: () => {
          if (finished) return
          try {
            output.emitWatermark(Infinity)
            if (--running === 0) finish()
          } catch (error) {
            fail(error)
          }
        },
      })
      teardown.push(() => subscription.unsubscribe())
    }
  } catch (error) {
    fail(error)
  }

  function finish(): void {
    Promise.resolve(chain.endInput())
      .then(() => {
        finished = true
        return chain.close()
      })
      .then(() => observer.complete(), fail)
  }

  return () => {
    if (finished) return
    finished = true
    for (const t of teardown) t()
  }
}

class ValveOutput<T> implements Output<T> {
  constructor(
    private readonly valve: WatermarkValve,
    private readonly index: number,
    private readonly target: Output<T>,
  ) {}

  collect(value: T, timestamp: number | undefined): void {
    this.target.collect(value, timestamp)
  }

  emitWatermark(watermark: number): void {
    this.valve.inputWatermark(this.index, watermark)
  }

  emitWatermarkStatus(idle: boolean): void {
    this.valve.inputStatus(this.index, idle)
  }

  emitSide<X>(tag: OutputTag<X>, value: X, timestamp: number | undefined): void {
    this.target.emitSide(tag, value, timestamp)
  }
}
