import type { MessagePort } from 'node:worker_threads'
import type { DeadLetter } from '../output-tag.js'
import type { SubtaskDeployment } from '../subtask-deployment.js'
import type { SubtaskControl, SubtaskEvent } from '../subtask-message.js'
import type { ReportedSubtaskMetrics } from './worker-metrics.js'

/** What a worker thread is started with (its `workerData`). */
export interface WorkerStart {
  readonly sluiceWorker: {
    /** The entry module the worker runs again. */
    readonly entry: string
    /** Which worker-executor job of the entry module this worker hosts: the n-th `execute()`, from 0. */
    readonly job: number
    readonly thread: number
    readonly threads: number
  }
}

/** From the coordinating thread to a worker. */
export type ToWorker =
  /** The subtasks of this worker's slot, where every subtask of the job runs, and a port per other worker. */
  | {
      readonly t: 'deploy'
      /** The coordinator's graph: a worker that built another one deploys nothing. */
      readonly fingerprint: string
      readonly deployments: readonly SubtaskDeployment[]
      readonly threadOf: Readonly<Record<string, number>>
      readonly peers: ReadonlyArray<MessagePort | undefined>
      /** The worker's ends of the channels to thread-bridged connectors, by `${deployment key}/${node id}`. */
      readonly bridges: Readonly<Record<string, MessagePort>>
    }
  | { readonly t: 'control'; readonly key: string; readonly message: SubtaskControl }

/** From a worker to the coordinating thread. */
export type FromWorker =
  /** The worker built the job graph: how it names its operators, to compare with the coordinator's. */
  | { readonly t: 'ready'; readonly thread: number; readonly fingerprint: string }
  | { readonly t: 'event'; readonly key: string; readonly event: SubtaskEvent }
  | { readonly t: 'dead-letter'; readonly letter: DeadLetter }
  /** The counters of the worker's subtasks: now and then while they run, and before each finishes. */
  | { readonly t: 'metrics'; readonly subtasks: readonly ReportedSubtaskMetrics[] }
  /** A subtask of the worker failed: the job fails or restarts as for any subtask failure. */
  | { readonly t: 'failed'; readonly message: string; readonly stack: string | undefined }

/** Between two workers: a message for one of the receiver's subtasks. */
export interface PeerMessage {
  readonly to: string
  readonly message: SubtaskControl
}
