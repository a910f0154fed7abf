import { MessageChannel, type MessagePort } from 'node:worker_threads'
import type { JobVertex } from './job-graph.js'
import { SinkOperator } from './sink-operator.js'
import type { StreamNode } from './stream-graph.js'
import type { SubtaskDeployment } from './subtask-deployment.js'

/**
 * A source or sink whose endpoint lives in one thread's memory (an `ActorRef` of an actor system on
 * the thread that built the job). On the worker executor its endpoint stays on the coordinating thread
 * and each subtask's reader or writer, in a worker, reaches it through a `MessagePort`: the executor
 * opens one channel per subtask, hands one end to the coordinator's copy of the connector
 * (`serveBridge`) and the other to the worker's copy (`useBridge`) before the subtask starts. Values
 * crossing the port are structured-cloned. On the single-thread executor neither is called.
 *
 * @example
 * class MySource implements Source<number>, ThreadBridged {
 *   serveBridge(subtask, parallelism, port) { port.on('message', (m) => this.fromWorker(subtask, m)) }
 *   useBridge(subtask, port) { this.ports[subtask] = port }
 * }
 */
export interface ThreadBridged {
  /** On the coordinating thread: serve the reader or writer of `subtask`, which runs in a worker, through `port`. */
  serveBridge(subtask: number, parallelism: number, port: MessagePort): void
  /** In a worker, before the subtask starts: its reader or writer reaches the coordinating thread through `port`. */
  useBridge(subtask: number, port: MessagePort): void
}

/**
 * Whether a source or sink is {@link ThreadBridged}.
 *
 * @example
 * isThreadBridged(actorSource({})) // true
 */
export function isThreadBridged(value: unknown): value is ThreadBridged {
  const bridged = value as Partial<ThreadBridged> | null
  return typeof bridged?.serveBridge === 'function' && typeof bridged.useBridge === 'function'
}

/** The {@link ThreadBridged} source or sink of a node, if it has one. */
function bridgedConnector(node: StreamNode): ThreadBridged | undefined {
  let connector: unknown = node.source
  if (connector === undefined && node.isSink) {
    const operator = node.createOperator?.()
    connector = operator instanceof SinkOperator ? operator.sink : undefined
  }
  return isThreadBridged(connector) ? connector : undefined
}

/**
 * On the coordinating thread, for the deployments going to workers: opens a channel per subtask of
 * each {@link ThreadBridged} connector, serves one end here, and returns the other ends by
 * `${deployment key}/${node id}` for the worker that runs the subtask ({@link useBridges}).
 *
 * @example
 * const bridges = openBridges(request.deployments, hosted.vertices)
 */
export function openBridges(
  deployments: readonly SubtaskDeployment[],
  vertices: readonly JobVertex[],
): Record<string, MessagePort> {
  const ends: Record<string, MessagePort> = {}
  for (const d of deployments) {
    const vertex = vertices[d.vertexId]!
    for (const node of vertex.nodes) {
      const connector = bridgedConnector(node)
      if (connector === undefined) continue
      const { port1, port2 } = new MessageChannel()
      connector.serveBridge(d.subtask, vertex.parallelism, port1)
      ends[`${d.key}/${node.id}`] = port2
    }
  }
  return ends
}

/**
 * In a worker, before a deployment's subtask starts: hands each {@link ThreadBridged} connector of
 * its vertex the end of its channel that {@link openBridges} opened.
 *
 * @example
 * useBridges(deployment, vertices[deployment.vertexId]!, message.bridges)
 */
export function useBridges(
  deployment: SubtaskDeployment,
  vertex: JobVertex,
  bridges: Readonly<Record<string, MessagePort>>,
): void {
  for (const node of vertex.nodes) {
    const port = bridges[`${deployment.key}/${node.id}`]
    if (port !== undefined) bridgedConnector(node)?.useBridge(deployment.subtask, port)
  }
}
