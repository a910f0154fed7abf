import type { OperatorSubtaskState, StateHandle } from '../../checkpoint/checkpoint-types.js'
import type { MessagePort } from 'node:worker_threads'
import type { Key } from '../../state/key-groups.js'
import type { DeadLetter } from '../output-tag.js'
import type { SubtaskDeployment } from '../subtask-deployment.js'
import type { SubtaskControl, SubtaskEvent } from '../subtask-message.js'
import type { TransferredError } from './transferred-error.js'
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
    /** The memory of this worker's `LookupSignal`: raised while lookups wait in its port. */
    readonly lookupSignal: SharedArrayBuffer
    /** The memory of the shared counts (shared limiters) the coordinator had made, by order of creation. */
    readonly sharedCounts?: readonly SharedArrayBuffer[]
    /** Where this worker keeps what it holds of each of `sharedCounts`, given back when it exits. */
    readonly heldCounts: SharedArrayBuffer
    /** What the coordinator's {@link provideWorkerContext} provider gave when the worker started. */
    readonly context?: unknown
    /** The jobs of the entry module that had ended on the coordinator when the worker started, by number. */
    readonly ended?: Readonly<Record<number, EndedWorkerJob>>
  }
}

/** How a worker-executor job of the entry module ended on the coordinator: `error` when it failed. */
export interface EndedWorkerJob {
  readonly error?: TransferredError
}

/** The coordinator's answer to a worker's state request. */
export type StateReply =
  | { readonly t: 'state-reply'; readonly request: number; readonly handle: StateHandle }
  | { readonly t: 'state-reply'; readonly request: number; readonly state: OperatorSubtaskState }
  | { readonly t: 'state-reply'; readonly request: number; readonly error: TransferredError }

/** One queryable-state lookup of a batch: the state's name and the key. */
export interface QueryableLookup {
  readonly state: string
  readonly key: Key
}

/** A worker's answer to one lookup of a batch: the value (when the key has one), or why there is none. */
export type QueryableAnswer =
  | { readonly found: boolean; readonly value: unknown }
  | { readonly error: TransferredError }

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
  /** The queryable-state lookups for this worker's subtasks that reached the job server in one turn. */
  | { readonly t: 'lookup'; readonly batch: number; readonly lookups: readonly QueryableLookup[] }
  /**
   * The deployment ends (a cancel, a restart): the worker stops its subtasks as one thread stops them
   * (readers close, operators abort), then answers 'stopped'.
   */
  | { readonly t: 'stop' }
  | StateReply

/** From a worker to the coordinating thread. */
export type FromWorker =
  /** The worker built the job graph: how it names its operators, to compare with the coordinator's. */
  | { readonly t: 'ready'; readonly thread: number; readonly fingerprint: string }
  /** The subtasks stopped, after a 'stop'. */
  | { readonly t: 'stopped' }
  | { readonly t: 'event'; readonly key: string; readonly event: SubtaskEvent }
  | { readonly t: 'dead-letter'; readonly letter: DeadLetter }
  /** The counters of the worker's subtasks: now and then while they run, and before each finishes. */
  | { readonly t: 'metrics'; readonly subtasks: readonly ReportedSubtaskMetrics[] }
  /** Records of the job's collecting sink (`executeAndCollect()`), ahead of that subtask's end. */
  | { readonly t: 'collected'; readonly values: readonly unknown[] }
  /** State for the coordinator's storage (one that is no DirectoryStorage), answered with its handle. */
  | {
      readonly t: 'write-state'
      readonly request: number
      readonly checkpointId: number
      readonly uid: string
      readonly subtask: number
      readonly state: OperatorSubtaskState
    }
  /** A restore asks the coordinator for the state of a handle. */
  | { readonly t: 'read-state'; readonly request: number; readonly handle: StateHandle }
  /** A subtask of the worker declared a queryable state: the coordinator routes its key groups here. */
  | {
      readonly t: 'queryable'
      readonly state: string
      readonly range: { readonly start: number; readonly end: number }
      readonly maxParallelism: number
    }
  /** The answers to a batch of lookups, in the batch's order. */
  | { readonly t: 'lookup-reply'; readonly batch: number; readonly answers: readonly QueryableAnswer[] }
  /** A subtask of the worker failed: the job fails or restarts as for any subtask failure. */
  | { readonly t: 'failed'; readonly error: TransferredError }

/**
 * Between two workers: a message for one of the receiver's subtasks; `errors` when records of its batch
 * hold errors as data, for the receiver to rebuild (crossing-errors.ts).
 */
export interface PeerMessage {
  readonly to: string
  readonly message: SubtaskControl
  readonly errors?: true
}
