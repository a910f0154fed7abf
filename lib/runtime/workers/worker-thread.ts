import { isMainThread, workerData } from 'node:worker_threads'
import type { WorkerStart } from './worker-protocol.js'

/**
 * The job this thread hosts subtasks of, when it is a worker started by the worker executor.
 *
 * @example
 * hostedJob()?.thread // 0, 1, …
 */
export function hostedJob(): WorkerStart['sluiceWorker'] | undefined {
  if (isMainThread) return undefined
  return (workerData as Partial<WorkerStart> | undefined)?.sluiceWorker
}

/**
 * Whether this thread coordinates jobs (the main thread, or any thread that is no sluice worker). The
 * worker executor runs the entry module again in every worker: code with side effects before
 * `execute()` (creating topics, printing, writing files) should run only here.
 *
 * @example
 * if (isCoordinator()) console.log('starting')
 */
export function isCoordinator(): boolean {
  return hostedJob() === undefined
}

/**
 * Runs `fn` on the coordinating thread only, and returns its result there (undefined in a worker).
 *
 * @example
 * await onCoordinator(() => admin.createTopics({ topics: [{ topic: 'words' }] }))
 */
export function onCoordinator<R>(fn: () => R): R | undefined {
  return isCoordinator() ? fn() : undefined
}

let workerJobsStarted = 0

/**
 * Numbers the worker-executor jobs of this thread in the order `execute()` starts them: the
 * coordinator and every worker, running the same entry module, count alike, so a worker knows which
 * job it hosts.
 *
 * @example
 * const ordinal = nextWorkerJob() // 0 for the first worker-executor job
 */
export function nextWorkerJob(): number {
  return workerJobsStarted++
}
