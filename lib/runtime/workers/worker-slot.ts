import { type MessagePort, parentPort } from 'node:worker_threads'
import { ActorSystem } from '../../actors/actor-system.js'
import type { ActorRef } from '../../actors/actor-ref.js'
import { Supervision } from '../../actors/supervision.js'
import { DirectoryStorage } from '../../checkpoint/directory-storage.js'
import type { RestoreSource } from '../../checkpoint/state-assignment.js'
import type { Logger } from '../../logging.js'
import { QueryableRegistry } from '../../queryable/queryable-registry.js'
import type { ResolvedConfig } from '../job-config.js'
import type { JobVertex } from '../job-graph.js'
import type { DeadLetter } from '../output-tag.js'
import { SubtaskMetrics } from '../job-metrics.js'
import { subtaskBehavior } from '../subtask.js'
import { useBridges } from '../thread-bridged.js'
import type { SubtaskControl, SubtaskMessage } from '../subtask-message.js'
import { rootCause } from '../restart-supervision.js'
import { CoordinatorStorage } from './coordinator-storage.js'
import { errorsForCrossing, recordForCrossing, revivedErrors } from './crossing-errors.js'
import { graphFingerprint } from './graph-fingerprint.js'
import { answerLookups } from './lookup-answers.js'
import { LookupSignal } from './lookup-signal.js'
import { transferError } from './transferred-error.js'
import { reportMetrics, WORKER_METRICS_INTERVAL_MS } from './worker-metrics.js'
import type { FromWorker, PeerMessage, ToWorker, WorkerStart } from './worker-protocol.js'

/**
 * The worker side of the worker executor: in a worker thread whose entry module has built the job
 * again, hosts the subtasks of this thread's slot. Tells the coordinator the graph it built, then runs
 * what the coordinator deploys: subtask actors (children of one slot actor, so that a failure of any
 * reaches the coordinator as a subtask failure), fed by the coordinator's control messages and by
 * ports to the other workers. Checkpoint state is written by the subtasks here, to the job's own
 * storage as this thread configured it; the subtasks' metrics are reported to the coordinator every
 * {@link WORKER_METRICS_INTERVAL_MS} and before each subtask finishes; the queryable states they declare
 * are announced to the coordinator, whose lookups are answered here. On `stop` the subtasks stop as on one
 * thread (their readers close, their operators abort) before `stopped` answers. Runs until the coordinator
 * terminates the worker.
 *
 * @example
 * serveWorkerSlot(start, vertices, config, log) // in a worker, instead of running the job
 */
export function serveWorkerSlot(
  start: WorkerStart['sluiceWorker'],
  vertices: readonly JobVertex[],
  config: ResolvedConfig,
  log: Logger,
): void {
  const port = parentPort!
  const fingerprint = graphFingerprint(vertices)
  const post = (message: FromWorker): void => port.postMessage(message)
  // lookups waiting in the port end the dispatcher's time slice early: they are read within a millisecond
  const lookupSignal = new LookupSignal(start.lookupSignal)
  const system = new ActorSystem({ name: `worker-${start.thread}`, yieldRequested: () => lookupSignal.raised })
  const metrics = new Map<string, SubtaskMetrics>()
  const postMetrics = (): void => {
    if (metrics.size > 0) post({ t: 'metrics', subtasks: reportMetrics(metrics) })
  }
  system.failures.subscribe(({ error }) => {
    // the counts at the failure reach the coordinator before the job can end on it
    postMetrics()
    post({ t: 'failed', error: transferError(rootCause(error)) })
  })
  const refs = new Map<string, ActorRef<SubtaskMessage>>()
  let peers: ReadonlyArray<MessagePort | undefined> = []
  let threadOf: Readonly<Record<string, number>> = {}
  const send = (key: string, message: SubtaskControl): void => {
    const local = refs.get(key)
    if (local !== undefined) {
      local.tell(message)
      return
    }
    peers[threadOf[key]!]!.postMessage(peerMessage(key, message))
  }
  setInterval(postMetrics, WORKER_METRICS_INTERVAL_MS).unref()
  // a DirectoryStorage is written by the workers themselves; any other storage lives on the coordinator
  const own = config.checkpointing?.storage
  const viaCoordinator =
    config.checkpointing !== undefined && !(own instanceof DirectoryStorage) ? new CoordinatorStorage(post) : undefined
  const storage = viaCoordinator ?? own
  // the coordinator routes lookups for the key groups of each declared state to this thread
  const queryables = new QueryableRegistry((state, served) =>
    post({
      t: 'queryable',
      state,
      range: { start: served.range.start, end: served.range.end },
      maxParallelism: served.maxParallelism,
    }),
  )
  let attempt: { cancelled: boolean } | undefined
  port.on('message', (message: ToWorker) => {
    if (message.t === 'control') return void refs.get(message.key)?.tell(message.message)
    if (message.t === 'stop') {
      if (attempt !== undefined) attempt.cancelled = true
      return void system.terminate().finally(() => post({ t: 'stopped' }))
    }
    if (message.t === 'lookup') {
      lookupSignal.lower()
      return void answerLookups(queryables, message, post)
    }
    if (message.t === 'state-reply') return viaCoordinator?.answer(message)
    // another graph than the coordinator's: run nothing (the coordinator fails the job on 'ready')
    if (message.fingerprint !== fingerprint) return
    peers = message.peers
    threadOf = message.threadOf
    for (const peer of peers)
      peer?.on('message', (m: PeerMessage) => {
        if (m.errors && m.message.t === 'input' && m.message.element.kind === 'batch')
          revivedErrors(m.message.element.batch.values as unknown[])
        refs.get(m.to)?.tell(m.message)
      })
    const restored = message.deployments.find((d) => d.restore !== undefined)?.restore
    let readState: RestoreSource['read'] | undefined
    if (restored !== undefined) {
      if (config.restoreFrom !== undefined) {
        const savepoint = DirectoryStorage.openSavepoint(config.restoreFrom)
        readState = async (handle) => (await savepoint).read(handle)
      } else if (storage !== undefined) readState = (handle) => storage.readState(handle)
    }
    attempt = { cancelled: false }
    const deployed = attempt
    system.spawn<never>(
      (ctx) => {
        for (const d of message.deployments) {
          const vertex = vertices[d.vertexId]!
          useBridges(d, vertex, message.bridges)
          const ref = ctx.spawn(
            subtaskBehavior(d, {
              vertex,
              config,
              log,
              attempt: deployed,
              send,
              report: (event) => {
                // the final counters reach the coordinator before the job can end on this event
                if (event.t === 'subtask-finished') postMetrics()
                post({ t: 'event', key: d.key, event })
              },
              deadLetter: (letter) => post({ t: 'dead-letter', letter: recordForCrossing(letter) as DeadLetter }),
              storage,
              readState,
              queryables,
              createMetrics: (chain) => {
                const m = new SubtaskMetrics(
                  vertex.name,
                  d.subtask,
                  [...chain.metrics.values()],
                  d.inputs.length * config.channelCredits * config.batchSize,
                  d.mailboxCapacity,
                )
                metrics.set(d.key, m)
                return m
              },
            }),
            { name: d.key, mailboxCapacity: d.mailboxCapacity, supervision: Supervision.escalate() },
          )
          refs.set(d.key, ref)
        }
        return { receive() {} }
      },
      { name: 'slot', supervision: Supervision.stop() },
    )
  })
  post({ t: 'ready', thread: start.thread, fingerprint })
}

/** A message to a subtask on another thread, with the errors its batch's records hold as data (crossing-errors.ts). */
function peerMessage(to: string, message: SubtaskControl): PeerMessage {
  if (message.t !== 'input' || message.element.kind !== 'batch') return { to, message }
  const batch = message.element.batch
  const values = errorsForCrossing(batch.values)
  if (values === undefined) return { to, message }
  return { to, message: { ...message, element: { kind: 'batch', batch: { ...batch, values } } }, errors: true }
}
