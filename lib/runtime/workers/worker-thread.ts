import { isMainThread, workerData } from 'node:worker_threads'
import { transferError } from './transferred-error.js'
import type { EndedWorkerJob, WorkerStart } from './worker-protocol.js'

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
let contextProvider: (() => unknown) | undefined
/** Counts the resets of the numbering: a job of an earlier numbering that ends late is not recorded. */
let numbering = 0
let endedJobs: Record<number, EndedWorkerJob> = {}

/**
 * @internal For a runner that starts many jobs from one entry module (a test runner): the value
 * `provide` returns when a worker starts is handed to that worker (`hostedJob().context`, structured
 * clone), so that it can build the one job it hosts, and the worker-executor jobs are numbered from 0
 * again (as a worker that runs only the code of that context counts them).
 *
 * @example
 * provideWorkerContext(() => ({ file, test })) // before each test
 */
export function provideWorkerContext(provide: (() => unknown) | undefined): void {
  contextProvider = provide
  workerJobsStarted = 0
  numbering++
  endedJobs = {}
}

/**
 * @internal Counts the times {@link provideWorkerContext} numbered the jobs from 0 again: what is
 * numbered in the order the entry module makes it (shared counts) is numbered from 0 again too.
 *
 * @example
 * if (seen !== replayNumbering()) made = []
 */
export function replayNumbering(): number {
  return numbering
}

/**
 * @internal On the coordinator: records how the worker-executor job numbered `job` ends, so that a
 * worker started later replays it the same way (a failed job fails there too, with its error).
 *
 * @example
 * recordWorkerJobEnd(0, handle.result)
 */
export function recordWorkerJobEnd(job: number, result: Promise<unknown>): void {
  const own = numbering
  result.then(
    () => {
      if (numbering === own) endedJobs[job] = {}
    },
    (error: unknown) => {
      if (numbering === own) endedJobs[job] = { error: transferError(error) }
    },
  )
}

/**
 * @internal What a worker started now is told of the jobs of the entry module that have ended, by number.
 *
 * @example
 * workerData.sluiceWorker.ended = endedWorkerJobs()
 */
export function endedWorkerJobs(): Readonly<Record<number, EndedWorkerJob>> {
  return endedJobs
}

/**
 * @internal What a worker started now is told, from {@link provideWorkerContext}.
 *
 * @example
 * workerData.sluiceWorker.context = workerContext()
 */
export function workerContext(): unknown {
  return contextProvider?.()
}

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

/**
 * @internal In a worker thread: whether the entry module has started the job this thread hosts (a
 * test runner that replays a test skips the waits before it, whose conditions the coordinator saw).
 *
 * @example
 * if (!hostedJobStarted()) return // still replaying up to the hosted job
 */
export function hostedJobStarted(): boolean {
  const hosted = hostedJob()
  return hosted !== undefined && workerJobsStarted > hosted.job
}
