import { ConfigError } from '../errors.js'
import { SinkOperator } from './sink-operator.js'
import type { StreamGraph } from './stream-graph.js'

/**
 * A source or sink whose live objects belong to the thread that built the job (an `ActorRef` of an
 * actor system on that thread): a worker thread, which runs the entry module again, would hold a copy
 * of its own, and records would silently go to (or come from) that copy. `threadBound` says why.
 *
 * @example
 * class MySource implements Source<number>, ThreadBound {
 *   readonly threadBound = 'its callbacks run on the thread that built the job'
 * }
 */
export interface ThreadBound {
  readonly threadBound: string
}

/**
 * Whether a source or sink is {@link ThreadBound}.
 *
 * @example
 * isThreadBound(actorSource({})) // true
 */
export function isThreadBound(value: unknown): value is ThreadBound {
  return typeof (value as Partial<ThreadBound> | null)?.threadBound === 'string'
}

/**
 * Refuses, when a job for worker threads is built, a graph with a {@link ThreadBound} source or sink:
 * a ConfigError on `executor.kind` naming the operator, its uid and the reason.
 *
 * @example
 * refuseThreadBound(graph) // throws: invalid option executor.kind: 'workers' (expected 'single-thread' for actor-source …)
 */
export function refuseThreadBound(graph: StreamGraph): void {
  for (const node of graph.nodes) {
    let connector: unknown = node.source
    if (connector === undefined && node.isSink) {
      const operator = node.createOperator?.()
      connector = operator instanceof SinkOperator ? operator.sink : undefined
    }
    if (isThreadBound(connector))
      throw new ConfigError(
        'executor.kind',
        'workers',
        `'single-thread' for a job with ${node.name} (uid ${node.uid}): ${connector.threadBound}`,
      )
  }
}
