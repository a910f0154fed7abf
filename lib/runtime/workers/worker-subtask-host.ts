import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import type { ActorContext } from '../../actors/behavior.js'
import { Supervision } from '../../actors/supervision.js'
import { SluiceError } from '../../errors.js'
import type { DeployedSubtasks, DeploymentRequest, HostedJob, SubtaskHost } from '../subtask-host.js'
import { graphFingerprint } from './graph-fingerprint.js'
import type { FromWorker, ToWorker, WorkerStart } from './worker-protocol.js'

/** What the actor that owns a deployment's workers handles. */
type PoolMessage =
  | FromWorker
  | { readonly t: 'worker-error'; readonly thread: number; readonly error: unknown }
  | { readonly t: 'worker-exit'; readonly thread: number; readonly code: number }

/** Room for the workers' events (acks, dead letters) between two turns of the pool actor. */
const POOL_MAILBOX = 65_536

/**
 * Runs a worker thread on the entry module: registers tsx first when the coordinator runs under it, so
 * a TypeScript entry loads in the worker as it did on the main thread.
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads')
;(async () => {
  const start = workerData.sluiceWorker
  if (start.tsx !== undefined) (await import(start.tsx)).register()
  await import(start.entry)
})().catch((error) => { setImmediate(() => { throw error }) })
`

/**
 * The worker executor's host: starts `threads` worker threads per deployment, each running the entry
 * module again, and deploys to thread `t` the subtasks whose index is `t` modulo `threads` (a slot per
 * thread with one subtask of each vertex, as Flink's slot sharing). Channels between threads are
 * MessagePorts between the workers, carrying the same elements and credits as local channels. A worker
 * that fails or exits fails the deployment as a subtask failure does; stopping the deployment (a
 * restart, the end of the job) terminates its workers.
 *
 * @example
 * JobHandle.start('orders', graph, config, workerSubtaskHost(2, nextWorkerJob()))
 */
export function workerSubtaskHost(threads: number, job: number, entry = process.argv[1]): SubtaskHost {
  if (entry === undefined)
    throw new SluiceError('ERR_WORKER_ENTRY', 'the worker executor needs an entry module: run the job from a file')
  return {
    deploy(
      parent: Pick<ActorContext<unknown>, 'spawn'>,
      request: DeploymentRequest,
      hosted: HostedJob,
    ): DeployedSubtasks {
      const threadOf: Record<string, number> = {}
      for (const d of request.deployments) threadOf[d.key] = d.subtask % threads
      const workers = Array.from({ length: threads }, (_, thread) => {
        const workerData: WorkerStart & { sluiceWorker: { tsx: string | undefined } } = {
          sluiceWorker: { entry: pathToFileURL(entry).href, job, thread, threads, tsx: tsxLoader() },
        }
        // the entry module sees the coordinator's arguments in process.argv, as it did there
        return new Worker(BOOTSTRAP, { eval: true, workerData, argv: process.argv.slice(2) })
      })
      const peers: Array<Array<MessagePort | undefined>> = workers.map(() => new Array(threads).fill(undefined))
      for (let a = 0; a < threads; a++)
        for (let b = a + 1; b < threads; b++) {
          const { port1, port2 } = new MessageChannel()
          peers[a]![b] = port1
          peers[b]![a] = port2
        }
      const expected = graphFingerprint(hosted.vertices)
      let stopping = false
      parent.spawn<PoolMessage>(
        (ctx) => {
          workers.forEach((worker, thread) => {
            worker.on('message', (message: FromWorker) => ctx.self.tell(message))
            worker.on('error', (error) => ctx.self.tell({ t: 'worker-error', thread, error }))
            worker.on('exit', (code) => {
              if (!stopping) ctx.self.tell({ t: 'worker-exit', thread, code })
            })
          })
          return {
            receive(message) {
              switch (message.t) {
                case 'ready':
                  if (message.fingerprint !== expected)
                    throw new SluiceError(
                      'ERR_WORKER_GRAPH_MISMATCH',
                      `worker thread ${message.thread} built another job graph than the coordinator: the entry module must build the same job (uids, names, parallelism) in every thread; run side effects with onCoordinator(). Coordinator: ${expected}; worker: ${message.fingerprint}`,
                    )
                  return
                case 'event':
                  return request.report(message.key, message.event)
                case 'dead-letter':
                  return hosted.deadLetter(message.letter)
                case 'failed': {
                  const error = new SluiceError('ERR_WORKER_SUBTASK_FAILED', message.message)
                  if (message.stack !== undefined) error.stack = message.stack
                  throw error
                }
                case 'worker-error':
                  throw new SluiceError('ERR_WORKER_FAILED', `worker thread ${message.thread} failed`, {
                    cause: message.error,
                  })
                case 'worker-exit':
                  throw new SluiceError(
                    'ERR_WORKER_EXITED',
                    `worker thread ${message.thread} exited with code ${message.code} while its subtasks ran`,
                  )
              }
            },
            async postStop() {
              stopping = true
              await Promise.all(workers.map((w) => w.terminate()))
            },
          }
        },
        {
          name: `workers-${request.deployments[0]?.attempt ?? 0}`,
          mailboxCapacity: POOL_MAILBOX,
          supervision: Supervision.escalate(),
        },
      )
      workers.forEach((worker, thread) => {
        const ports = peers[thread]!.filter((p): p is MessagePort => p !== undefined)
        const deploy: ToWorker = {
          t: 'deploy',
          fingerprint: expected,
          deployments: request.deployments.filter((d) => threadOf[d.key] === thread),
          threadOf,
          peers: peers[thread]!,
        }
        worker.postMessage(deploy, ports)
      })
      return {
        tell(key, message) {
          const worker = workers[threadOf[key]!]!
          const control: ToWorker = { t: 'control', key, message }
          worker.postMessage(control)
        },
      }
    },
  }
}

/** The tsx loader to register in a worker, when the coordinator runs under tsx. */
function tsxLoader(): string | undefined {
  if (!process.execArgv.some((arg) => arg.includes('tsx'))) return undefined
  try {
    return import.meta.resolve('tsx/esm/api')
  } catch {
    return undefined
  }
}
