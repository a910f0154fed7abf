import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'
import type { ActorContext } from '../../actors/behavior.js'
import type { OperatorSubtaskState, StateHandle } from '../../checkpoint/checkpoint-types.js'
import { Supervision } from '../../actors/supervision.js'
import { SluiceError, messageOf } from '../../errors.js'
import type { DeadLetter } from '../output-tag.js'
import type { DeployedSubtasks, DeploymentRequest, HostedJob, SubtaskHost } from '../subtask-host.js'
import { KeyGroupRange } from '../../state/key-groups.js'
import { openBridges } from '../thread-bridged.js'
import { graphFingerprint } from './graph-fingerprint.js'
import { revivedError, transferError } from './transferred-error.js'
import { LookupSignal } from './lookup-signal.js'
import { WorkerLookups } from './worker-lookups.js'
import { revivedRecord } from './crossing-errors.js'
import { MirroredSubtaskMetrics } from './worker-metrics.js'
import type { FromWorker, ToWorker, WorkerStart } from './worker-protocol.js'
import { endedWorkerJobs, workerContext } from './worker-thread.js'
import { giveBackHeld, sharedCountsForWorker } from './shared-counts.js'

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
 * The worker executor's host: starts `threads` worker threads per deployment (no more than the largest
 * parallelism: a further thread would host nothing), each running the entry module again, and deploys
 * to thread `t` the subtasks whose index is `t` modulo the threads (a slot per thread with one subtask
 * of each vertex, as Flink's slot sharing). The subtasks start once every worker has built the job.
 * Channels between threads are MessagePorts between the workers, carrying the same elements and
 * credits as local channels. A worker that fails or exits fails the deployment as a subtask failure
 * does; a worker whose subtasks have all finished is terminated at once; stopping the deployment (a
 * restart, a cancel) terminates the others and waits for their threads to exit. The records of a
 * collecting sink ({@link CollectSink}) go to `collected`, in the order each worker sent them. The
 * queryable states the workers' subtasks declare are registered with the job's registry here, and a
 * lookup goes to the worker of the subtask that owns the key's group ({@link WorkerLookups}).
 *
 * @example
 * JobHandle.start('orders', graph, config, workerSubtaskHost(2, nextWorkerJob()))
 */
export function workerSubtaskHost(
  threads: number,
  job: number,
  collected?: (values: readonly unknown[]) => void,
  entry = process.argv[1],
): SubtaskHost {
  if (entry === undefined)
    throw new SluiceError('ERR_WORKER_ENTRY', 'the worker executor needs an entry module: run the job from a file')
  return {
    deploy(
      parent: Pick<ActorContext<unknown>, 'spawn'>,
      request: DeploymentRequest,
      hosted: HostedJob,
    ): DeployedSubtasks {
      // a thread beyond the largest parallelism would host nothing: it is not started
      const used = Math.min(threads, Math.max(1, ...request.deployments.map((d) => d.subtask + 1)))
      const threadOf: Record<string, number> = {}
      const hostedBy = new Array<number>(used).fill(0)
      for (const d of request.deployments) {
        threadOf[d.key] = d.subtask % used
        hostedBy[d.subtask % used]!++
      }
      const signals = Array.from({ length: used }, () => new LookupSignal())
      const workers = Array.from({ length: used }, (_, thread) => {
        const workerData: WorkerStart & { sluiceWorker: { tsx: string | undefined } } = {
          sluiceWorker: {
            entry: pathToFileURL(entry).href,
            job,
            thread,
            threads: used,
            lookupSignal: signals[thread]!.buffer,
            ...sharedCountsForWorker(),
            tsx: tsxLoader(),
            context: workerContext(),
            ended: endedWorkerJobs(),
          },
        }
        // the entry module sees the coordinator's arguments in process.argv, as it did there
        const worker = new Worker(BOOTSTRAP, { eval: true, workerData, argv: process.argv.slice(2) })
        // what its limiters held when the thread ended (terminated mid-call) is theirs again
        const { sharedCounts, heldCounts } = workerData.sluiceWorker
        worker.once('exit', () => giveBackHeld(sharedCounts ?? [], heldCounts))
        return worker
      })
      const peers: Array<Array<MessagePort | undefined>> = workers.map(() => new Array(used).fill(undefined))
      for (let a = 0; a < used; a++)
        for (let b = a + 1; b < used; b++) {
          const { port1, port2 } = new MessageChannel()
          peers[a]![b] = port1
          peers[b]![a] = port2
        }
      const expected = graphFingerprint(hosted.vertices)
      let stopping = false
      // queryable-state lookups go to the worker hosting the key's subtask, batched per turn
      const lookups = workers.map((worker, thread) => new WorkerLookups((m) => worker.postMessage(m), signals[thread]!))
      // a worker whose subtasks have all finished has nothing left to run: it is terminated at once,
      // while the others still work, and the end of the job does not wait for its thread to exit
      const finished = new Array<number>(used).fill(0)
      // the coordinator's view of the subtasks' metrics, as the workers report them
      const mirrors = new Map<string, MirroredSubtaskMetrics>()
      const released = (thread: number): boolean => finished[thread] === hostedBy[thread]
      // the job master's messages wait until every worker has built the job: no subtask starts while
      // another thread still loads the entry module, so the threads start (and measure) together
      let loading = used
      let held: Array<[thread: number, control: ToWorker]> | undefined = []
      const release = (): void => {
        for (const [thread, control] of held!) workers[thread]!.postMessage(control)
        held = undefined
      }
      parent.spawn<PoolMessage>(
        (ctx) => {
          workers.forEach((worker, thread) => {
            worker.on('message', (message: FromWorker) => {
              if (message.t === 'write-state' || message.t === 'read-state')
                answerState(worker, message, request, hosted)
              else if (message.t === 'lookup-reply') lookups[thread]!.answer(message)
              else if (message.t === 'stopped')
                return // awaited by stopWorker
              else if (message.t === 'queryable') {
                // a state of a replaced deployment must not shadow the next one's
                if (stopping || request.attempt.cancelled) return
                hosted.queryables.register(message.state, {
                  range: new KeyGroupRange(message.range.start, message.range.end),
                  maxParallelism: message.maxParallelism,
                  lookup: (key, timeoutMs) => lookups[thread]!.lookup(message.state, key, timeoutMs),
                })
              } else ctx.self.tell(message)
            })
            worker.on('error', (error) => {
              lookups[thread]!.fail(`worker thread ${thread} failed`)
              ctx.self.tell({ t: 'worker-error', thread, error })
            })
            worker.on('exit', (code) => {
              lookups[thread]!.fail(`worker thread ${thread} exited`)
              if (!stopping && !released(thread)) ctx.self.tell({ t: 'worker-exit', thread, code })
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
                  if (--loading === 0) release()
                  return
                case 'event': {
                  const thread = threadOf[message.key]!
                  if (message.event.t === 'subtask-finished' && ++finished[thread]! === hostedBy[thread])
                    void workers[thread]!.terminate()
                  return request.report(message.key, message.event)
                }
                case 'dead-letter':
                  return hosted.deadLetter(revivedRecord(message.letter) as DeadLetter)
                case 'collected':
                  return collected?.(message.values.map(revivedRecord))
                case 'metrics':
                  for (const report of message.subtasks) {
                    const mirror = mirrors.get(report.key)
                    if (mirror !== undefined) mirror.update(report)
                    else {
                      const created = new MirroredSubtaskMetrics(report)
                      mirrors.set(report.key, created)
                      request.metrics.subtasks.push(created)
                    }
                  }
                  return
                case 'failed':
                  // the subtask's own error, as on one thread: its class and fields cross with it
                  throw revivedError(message.error)
                case 'worker-error':
                  throw new SluiceError(
                    'ERR_WORKER_FAILED',
                    `worker thread ${message.thread} failed: ${messageOf(message.error)}`,
                    {
                      cause: message.error,
                    },
                  )
                case 'worker-exit':
                  throw new SluiceError(
                    'ERR_WORKER_EXITED',
                    `worker thread ${message.thread} exited with code ${message.code} while its subtasks ran`,
                  )
              }
            },
            async postStop() {
              stopping = true
              for (const l of lookups) l.fail('the deployment stopped')
              await Promise.all(workers.filter((_, thread) => !released(thread)).map(stopWorker))
            },
          }
        },
        {
          name: `workers-${request.deployments[0]?.attempt ?? 0}`,
          mailboxCapacity: POOL_MAILBOX,
          supervision: Supervision.escalate(),
        },
      )
      // connectors whose endpoint stays on this thread: one channel per subtask to its reader or writer
      const bridgeEnds = openBridges(request.deployments, hosted.vertices)
      workers.forEach((worker, thread) => {
        const deployments = request.deployments.filter((d) => threadOf[d.key] === thread)
        const bridges = Object.fromEntries(
          Object.entries(bridgeEnds).filter(([key]) => threadOf[key.slice(0, key.indexOf('/'))] === thread),
        )
        const ports = [...peers[thread]!.filter((p): p is MessagePort => p !== undefined), ...Object.values(bridges)]
        const deploy: ToWorker = {
          t: 'deploy',
          fingerprint: expected,
          deployments,
          threadOf,
          peers: peers[thread]!,
          bridges,
        }
        worker.postMessage(deploy, ports)
      })
      return {
        tell(key, message) {
          const thread = threadOf[key]!
          const control: ToWorker = { t: 'control', key, message }
          if (held === undefined) workers[thread]!.postMessage(control)
          else held.push([thread, control])
        },
      }
    },
  }
}

/**
 * Serves a worker's state request on the coordinator's storage (one that is no DirectoryStorage): the
 * write of a subtask's snapshot, or the read of a handle to restore, answered when done.
 */
function answerState(
  worker: Worker,
  message: Extract<FromWorker, { t: 'write-state' | 'read-state' }>,
  request: DeploymentRequest,
  hosted: HostedJob,
): void {
  const work: Promise<{ handle: StateHandle } | { state: OperatorSubtaskState }> =
    message.t === 'write-state'
      ? hosted
          .storage!.writeState(message.checkpointId, message.uid, message.subtask, message.state)
          .then((handle) => ({ handle }))
      : request.restore!.read(message.handle).then((state) => ({ state }))
  work.then(
    (answer) => worker.postMessage({ t: 'state-reply', request: message.request, ...answer } satisfies ToWorker),
    (error: unknown) =>
      worker.postMessage({
        t: 'state-reply',
        request: message.request,
        error: transferError(error),
      } satisfies ToWorker),
  )
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

/** How long a worker may take to stop its subtasks before its thread is terminated regardless. */
const STOP_GRACE_MS = 5_000

/**
 * Stops a worker's subtasks as one thread stops them (readers close, operators abort: a source's
 * last acknowledgements go out, a connection closes), then terminates the thread. A worker that has
 * not answered within {@link STOP_GRACE_MS} (user code that never yields) or that exited is terminated
 * at once.
 */
async function stopWorker(worker: Worker): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, STOP_GRACE_MS)
    function done(): void {
      clearTimeout(timer)
      worker.off('message', onMessage).off('exit', done)
      resolve()
    }
    function onMessage(message: FromWorker): void {
      if (message.t === 'stopped') done()
    }
    worker.on('message', onMessage).once('exit', done)
    worker.postMessage({ t: 'stop' } satisfies ToWorker)
  })
  await worker.terminate()
}
