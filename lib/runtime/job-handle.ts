import { randomUUID } from 'node:crypto'
import { type Observable, Subject, interval, map as rxMap, takeUntil } from 'rxjs'
import type { ResolvedConfig } from './job-config.js'
import { StateError } from '../errors.js'
import { ArchivedJob } from './archived-job.js'
import type { CheckpointMetadata } from '../checkpoint/checkpoint-types.js'
import { JobLauncher } from './job-launcher.js'
import type { JobMetricsSnapshot } from './job-metrics.js'
import type { DeadLetter } from './output-tag.js'
import { localSubtaskHost } from './local-subtask-host.js'
import type { CheckpointStats } from '../checkpoint/checkpoint-types.js'
import type { QueryableRegistry } from '../queryable/queryable-registry.js'
import { errorChain } from '../util/error-chain.js'
import { Deferred } from '../util/deferred.js'
import type { JobVertex } from './job-graph.js'
import { type JobException, type JobStatus, type RegisteredJob, jobRegistry } from './job-registry.js'
import type { StreamGraph } from './stream-graph.js'
import type { SubtaskHost } from './subtask-host.js'
import type { EndedWorkerJob } from './workers/worker-protocol.js'
import { revivedError } from './workers/transferred-error.js'

/** How a job ended, when it did not fail. */
export interface JobResult {
  readonly status: 'finished' | 'cancelled'
  readonly durationMs: number
  readonly metrics: JobMetricsSnapshot
}

/** Failures kept for `exceptions()`, newest last. */
const RETAINED_EXCEPTIONS = 32

/**
 * A running job: its result, its live metrics, its dead letters, and `cancel()`.
 *
 * @example
 * const job = env.executeAsync('clicks')
 * job.progress(1000).subscribe((m) => console.log(m.operators))
 * const { status } = await job.result
 */
export class JobHandle implements RegisteredJob {
  readonly id = randomUUID()
  readonly startedAt = Date.now()
  /**
   * Resolves with how the job ended, or rejects with why it failed. A failure is logged ('job failed')
   * whether or not anyone awaits this, so a job nobody awaits does not crash the process with an
   * unhandled rejection, and a handler attached after the failure still receives it.
   */
  readonly result: Promise<JobResult>
  /** Resolves when every subtask runs (sources started): a hot source may emit from then on. */
  readonly running: Promise<void>
  private readonly runningMark = new Deferred()
  private readonly deadLetterSubject = new Subject<DeadLetter>()
  private readonly ended = new Subject<void>()
  private readonly launcher: JobLauncher
  private readonly settle = new Deferred<JobResult>()
  private done = false
  private state: JobStatus = 'initializing'
  /** In a worker thread: this is a job of another thread (see {@link inWorker}). */
  private elsewhere = false
  private readonly failures: JobException[] = []

  private constructor(
    readonly name: string,
    graph: StreamGraph,
    config: ResolvedConfig,
    host: SubtaskHost,
    boot: (launcher: JobLauncher) => Promise<void>,
  ) {
    this.result = this.settle.promise
    this.result.catch(() => {})
    this.running = this.runningMark.promise
    this.launcher = new JobLauncher(
      name,
      this.id,
      graph,
      config,
      host,
      {
        running: () => {
          this.state = 'running'
          this.runningMark.resolve()
        },
        finished: () => void this.end('finished'),
        failed: (error) => this.fail(error),
        restarting: (cause) => {
          this.state = 'restarting'
          this.recordFailure(cause, true)
        },
        deadLetter: (letter) => this.deadLetterSubject.next(letter),
        stopped: () => this.done,
      },
      this.startedAt,
    )
    jobRegistry.add(this)
    boot(this.launcher).catch((error) => this.fail(error))
  }

  /**
   * @internal Use `env.executeAsync()`. Throws at once what can be known before the job starts: a
   * `restoreFrom` that is no savepoint directory, or whose state this job does not claim.
   */
  static start(
    name: string,
    graph: StreamGraph,
    config: ResolvedConfig,
    host: SubtaskHost = localSubtaskHost,
  ): JobHandle {
    JobLauncher.checkSavepoint(graph, config)
    return new JobHandle(name, graph, config, host, (launcher) => launcher.boot())
  }

  /**
   * @internal In a worker thread of the worker executor, `env.executeAsync()` does not run the job.
   * For the job the worker hosts, `serve` (given the job's vertices) runs the subtasks the coordinator
   * deploys to this thread: the handle's `result` never settles, the coordinator ends the worker. Any
   * other job of the entry module (`serve` undefined) ends at once as it ended on the coordinator: when
   * `ended` says it failed there, with its error; else it is running and finished (both `running` and
   * `result` resolve). Its savepoints (`triggerSavepoint`, `stopWithSavepoint`) resolve with the
   * directory given, writing nothing (the coordinator's job writes it). So the entry module goes on to
   * the job the worker hosts as it went on on the coordinator, also when that job restores from a
   * savepoint of an earlier one. A job the coordinator refuses at start (its `restoreFrom`) throws here
   * too.
   */
  static inWorker(
    name: string,
    graph: StreamGraph,
    config: ResolvedConfig,
    serve: ((vertices: readonly JobVertex[]) => void) | undefined,
    ended?: EndedWorkerJob,
  ): JobHandle {
    // refused at start in every thread, as on the coordinator (the entry module goes on the same way)
    JobLauncher.checkSavepoint(graph, config)
    const handle = new JobHandle(name, graph, config, localSubtaskHost, async (launcher) => {
      if (serve !== undefined) return serve(launcher.runtime.vertices)
      // another thread's job: it ended for whoever awaits it here as it ended on the coordinator
      if (ended?.error !== undefined) throw revivedError(ended.error)
      launcher.runtime.onRunning()
      launcher.runtime.onFinished()
    })
    handle.elsewhere = serve === undefined
    return handle
  }

  /**
   * Where this job's queryable state (and the job server) is served, when `queryableState` is configured:
   * at once for a shared {@link JobServer}, once `running` resolves for a server the job starts itself.
   */
  get queryableStateUrl(): string | undefined {
    return this.launcher.queryServerUrl
  }

  /** Where the job is in its life: initializing, running, restarting, or how it ended. */
  get status(): JobStatus {
    return this.state
  }

  /** The job's chains of operators (its job graph), each with its parallelism and edges. */
  get vertices(): readonly JobVertex[] {
    return this.launcher.runtime.vertices
  }

  /** @internal The queryable states the current deployment serves. */
  get queryables(): QueryableRegistry {
    return this.launcher.runtime.queryables
  }

  /** The job's failures (the last 32), each with its root cause's stack and cause chain. */
  exceptions(): readonly JobException[] {
    return this.failures
  }

  private recordFailure(error: unknown, restarted: boolean): void {
    this.failures.push({ time: Date.now(), restarted, error: errorChain(error) })
    if (this.failures.length > RETAINED_EXCEPTIONS) this.failures.shift()
  }

  /** Lists the job as ended, archived with the metrics it ended with, and stops serving its state. */
  private async stopServingQueries(metrics = this.metrics()): Promise<void> {
    jobRegistry.markEnded(ArchivedJob.of(this, metrics))
    await this.launcher.stopServingQueries()
  }

  /** Records that failed under the `resume` policy or could not be decoded, and that no stream reads. */
  get deadLetters(): Observable<DeadLetter> {
    return this.deadLetterSubject.asObservable()
  }

  /** Counters of the job now: records per operator, backpressure, queue fill. */
  metrics(): JobMetricsSnapshot {
    return this.launcher.runtime.metrics.snapshot()
  }

  /**
   * The metrics every `intervalMs` while the job runs: the progress of long work.
   *
   * @example
   * job.progress(500).subscribe((m) => process.stderr.write(`${m.operators[0]?.recordsOut} records\r`))
   */
  progress(intervalMs = 1000): Observable<JobMetricsSnapshot> {
    return interval(intervalMs).pipe(
      rxMap(() => this.metrics()),
      takeUntil(this.ended),
    )
  }

  /**
   * Stops the job at once: sources stop reading, operators emit nothing more, sinks close without a
   * final flush. `result` resolves with status 'cancelled'.
   *
   * @example
   * await job.cancel()
   */
  async cancel(): Promise<void> {
    if (this.done) return
    this.launcher.tell({ t: 'cancel' })
    await this.end('cancelled')
  }

  /**
   * Takes a savepoint of the running job into `directory` and resolves with it; start a job from it
   * with `restoreFrom`, also at another parallelism.
   *
   * @example
   * const dir = await job.triggerSavepoint('/savepoints/orders-1')
   */
  async triggerSavepoint(directory: string): Promise<string> {
    return this.savepoint(directory, false)
  }

  private async savepoint(directory: string, stop: boolean): Promise<string> {
    const coordinator = this.launcher.runtime.coordinator
    if (coordinator === undefined)
      throw new StateError('ERR_CHECKPOINTING_DISABLED', 'savepoints need checkpointing: set checkpointing.intervalMs')
    await this.running
    if (this.elsewhere) return directory
    const metadata = await new Promise<CheckpointMetadata>((resolve, reject) => {
      if (this.done || !this.launcher.tell({ t: 'trigger-checkpoint', savepoint: { resolve, reject, stop } }))
        reject(new StateError('ERR_JOB_NOT_RUNNING', 'the job is not running'))
    })
    const path = await coordinator.storage.saveSavepoint(metadata, directory)
    this.launcher.runtime.log.info('savepoint written', { checkpoint: metadata.id, directory: path })
    return path
  }

  /**
   * Stops the job with a savepoint (Flink's stop without drain): sources emit nothing after its barrier,
   * no checkpoint follows it; once it is complete, sinks commit and every subtask closes, and `result`
   * resolves. A job started from the savepoint continues exactly where this one stopped.
   *
   * @example
   * const dir = await job.stopWithSavepoint('/savepoints/before-upgrade')
   */
  async stopWithSavepoint(directory: string): Promise<string> {
    const path = await this.savepoint(directory, true)
    await this.result
    return path
  }

  /** Id, duration, size, alignment time and outcome of the recent checkpoints. */
  checkpoints(): CheckpointStats[] {
    return [...(this.launcher.runtime.coordinator?.history ?? [])]
  }

  private async end(status: JobResult['status']): Promise<void> {
    if (this.done) return
    this.done = true
    this.state = status
    const metrics = this.metrics()
    await this.stopServingQueries(metrics)
    await this.launcher.terminate()
    this.ended.next()
    this.deadLetterSubject.complete()
    this.launcher.runtime.log.info(`job ${status}`, { durationMs: metrics.elapsedMs, restarts: metrics.restarts })
    this.settle.resolve({ status, durationMs: metrics.elapsedMs, metrics })
  }

  private fail(failure: unknown): void {
    if (this.done) return
    this.done = true
    const error = this.launcher.finalError ?? failure
    this.state = 'failed'
    this.recordFailure(error, false)
    this.launcher.runtime.log.error('job failed', { error })
    this.ended.next()
    this.deadLetterSubject.complete()
    void this.stopServingQueries()
      .then(() => this.launcher.terminate())
      .finally(() => this.settle.reject(error))
  }
}
