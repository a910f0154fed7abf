import { randomUUID } from 'node:crypto'
import { type Observable, Subject, interval, map as rxMap, takeUntil } from 'rxjs'
import { ActorSystem } from '../actors/actor-system.js'
import type { ActorRef } from '../actors/actor-ref.js'
import { Supervision, type SupervisorStrategy } from '../actors/supervision.js'
import type { ResolvedConfig } from './job-config.js'
import { SluiceError, StateError, UserFunctionError } from '../errors.js'
import type { CheckpointMetadata } from '../checkpoint/checkpoint-types.js'
import { buildJobGraph } from './job-graph.js'
import { type JobMasterMessage, type JobRuntime, jobMasterBehavior } from './job-master.js'
import { type JobMetricsSnapshot, MetricsRegistry } from './job-metrics.js'
import type { DeadLetter } from './output-tag.js'
import { decideRestart } from './restart-strategy.js'
import { CheckpointCoordinator } from '../checkpoint/checkpoint-coordinator.js'
import type { CheckpointStats } from '../checkpoint/checkpoint-types.js'
import { DirectoryStorage } from '../checkpoint/directory-storage.js'
import { MemoryStorage } from '../checkpoint/memory-storage.js'
import { checkClaims, type RestoreSource } from '../checkpoint/state-assignment.js'
import { QueryableRegistry } from '../queryable/queryable-registry.js'
import { QueryableStateServer } from '../queryable/queryable-state-server.js'
import type { StreamGraph } from './stream-graph.js'

/** How a job ended, when it did not fail. */
export interface JobResult {
  readonly status: 'finished' | 'cancelled'
  readonly durationMs: number
  readonly metrics: JobMetricsSnapshot
}

/** Restarts a failing operator with the `restart` policy may cause within a minute, whatever the job strategy. */
const OPERATOR_RESTARTS_PER_MINUTE = 3

/**
 * A running job: its result, its live metrics, its dead letters, and `cancel()`.
 *
 * @example
 * const job = env.executeAsync('clicks')
 * job.progress(1000).subscribe((m) => console.log(m.operators))
 * const { status } = await job.result
 */
export class JobHandle {
  readonly id = randomUUID()
  readonly result: Promise<JobResult>
  /** Resolves when every subtask runs (sources started): a hot source may emit from then on. */
  readonly running: Promise<void>
  private markRunning!: () => void
  private readonly deadLetterSubject = new Subject<DeadLetter>()
  private readonly ended = new Subject<void>()
  private readonly runtime: JobRuntime
  private readonly system: ActorSystem
  private master: ActorRef<JobMasterMessage> | undefined
  private settle!: { resolve: (r: JobResult) => void; reject: (e: unknown) => void }
  private done = false
  private queryServer: QueryableStateServer | undefined
  private ownsQueryServer = false

  private constructor(
    readonly name: string,
    graph: StreamGraph,
    config: ResolvedConfig,
  ) {
    this.result = new Promise<JobResult>((resolve, reject) => {
      this.settle = { resolve, reject }
    })
    this.running = new Promise<void>((resolve) => {
      this.markRunning = resolve
    })
    const log = config.logger.child({ job: name, jobId: this.id })
    const startedAt = Date.now()
    const vertices = buildJobGraph(graph, config.chaining)
    const checkpointing = config.checkpointing
    const coordinator =
      checkpointing === undefined
        ? undefined
        : new CheckpointCoordinator(
            name,
            graph.nodes.map((n) => ({ uid: n.uid, parallelism: n.parallelism, maxParallelism: n.maxParallelism })),
            vertices.flatMap((v) => Array.from({ length: v.parallelism }, (_, i) => `${v.id}-${i}`)),
            checkpointing.storage ?? new MemoryStorage(),
            checkpointing,
            log,
          )
    this.runtime = {
      name,
      vertices,
      checkpointing,
      coordinator,
      restore: undefined,
      queryables: new QueryableRegistry(),
      deployments: 0,
      config,
      log,
      metrics: new MetricsRegistry(startedAt),
      startedAt,
      restarts: 0,
      deadLetter: (letter) => {
        this.runtime.metrics.deadLetters++
        log.warn('dead letter', { operator: letter.operator, subtask: letter.subtask, reason: letter.reason })
        this.deadLetterSubject.next(letter)
      },
      onFinished: () => void this.end('finished'),
      onRunning: () => {
        this.runtime.queryables.serving = true
        log.info('job running', { restarts: this.runtime.restarts })
        this.markRunning()
      },
    }
    if (coordinator !== undefined)
      coordinator.onDurable = (metadata) => {
        this.runtime.restore = { metadata, read: (handle) => coordinator.storage.readState(handle) }
      }
    this.system = new ActorSystem({ name: `job-${this.id}` })
    this.system.failures.subscribe(({ error }) => this.fail(rootCause(error)))
    this.boot(graph).catch((error) => this.fail(error))
  }

  /** Finds what to restore (a savepoint, or the newest checkpoint in storage), checks it, deploys. */
  private async boot(graph: StreamGraph): Promise<void> {
    const { config, coordinator, log } = this.runtime
    let restore: RestoreSource | undefined
    if (config.restoreFrom !== undefined) restore = await DirectoryStorage.openSavepoint(config.restoreFrom)
    else if (coordinator !== undefined && config.checkpointing!.resume) {
      const metadata = await coordinator.storage.latest()
      if (metadata !== undefined) restore = { metadata, read: (handle) => coordinator.storage.readState(handle) }
    }
    if (restore !== undefined) {
      checkClaims(
        restore.metadata,
        new Map(graph.nodes.map((n) => [n.uid, n.maxParallelism])),
        config.allowNonRestoredState,
      )
      coordinator?.restoredFrom(restore.metadata)
      log.info('job restoring', { checkpoint: restore.metadata.id, savepoint: restore.metadata.savepoint })
    }
    this.runtime.restore = restore
    await this.serveQueries()
    if (this.done) return
    log.info('job starting', { vertices: this.runtime.vertices.map((v) => `${v.name} ×${v.parallelism}`) })
    this.master = this.system.spawn(jobMasterBehavior(this.runtime), {
      name: 'job-master',
      supervision: this.restartSupervision(),
    })
  }

  /** @internal Use `env.executeAsync()`. */
  static start(name: string, graph: StreamGraph, config: ResolvedConfig): JobHandle {
    return new JobHandle(name, graph, config)
  }

  /** Where this job's queryable state is served, when `queryableState` is configured. */
  get queryableStateUrl(): string | undefined {
    return this.queryServer?.url
  }

  private async serveQueries(): Promise<void> {
    const option = this.runtime.config.queryableState
    if (option === undefined) return
    this.ownsQueryServer = !(option instanceof QueryableStateServer)
    this.queryServer = option instanceof QueryableStateServer ? option : await QueryableStateServer.start(option)
    this.queryServer.register(this.id, this.name, this.runtime.queryables)
    this.runtime.log.info('serving queryable state', { url: this.queryServer.url })
  }

  private async stopServingQueries(): Promise<void> {
    this.runtime.queryables.clear()
    this.queryServer?.unregister(this.id)
    if (this.ownsQueryServer) await this.queryServer?.close()
  }

  /** Records that failed under the `resume` policy or could not be decoded, and that no stream reads. */
  get deadLetters(): Observable<DeadLetter> {
    return this.deadLetterSubject.asObservable()
  }

  /** Counters of the job now: records per operator, backpressure, queue fill. */
  metrics(): JobMetricsSnapshot {
    return this.runtime.metrics.snapshot()
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
    this.master?.tell({ t: 'cancel' })
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
    const coordinator = this.runtime.coordinator
    if (coordinator === undefined)
      throw new StateError('ERR_CHECKPOINTING_DISABLED', 'savepoints need checkpointing: set checkpointing.intervalMs')
    await this.running
    const metadata = await new Promise<CheckpointMetadata>((resolve, reject) => {
      if (this.master === undefined || this.done)
        return reject(new StateError('ERR_JOB_NOT_RUNNING', 'the job is not running'))
      this.master.tell({ t: 'trigger-checkpoint', savepoint: { resolve, reject, stop } })
    })
    const path = await coordinator.storage.saveSavepoint(metadata, directory)
    this.runtime.log.info('savepoint written', { checkpoint: metadata.id, directory: path })
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
    return [...(this.runtime.coordinator?.history ?? [])]
  }

  private async end(status: JobResult['status']): Promise<void> {
    if (this.done) return
    this.done = true
    const metrics = this.metrics()
    await this.stopServingQueries()
    await this.system.terminate()
    this.ended.next()
    this.deadLetterSubject.complete()
    this.runtime.log.info(`job ${status}`, { durationMs: metrics.elapsedMs, restarts: metrics.restarts })
    this.settle.resolve({ status, durationMs: metrics.elapsedMs, metrics })
  }

  private fail(error: unknown): void {
    if (this.done) return
    this.done = true
    this.runtime.log.error('job failed', { error })
    this.ended.next()
    this.deadLetterSubject.complete()
    void this.stopServingQueries()
      .then(() => this.system.terminate())
      .finally(() => this.settle.reject(error))
  }

  /** The job's restart strategy as the job master's supervisor. */
  private restartSupervision(): SupervisorStrategy {
    const failures: number[] = []
    const operatorRestarts: number[] = []
    return Supervision.decide((error) => {
      const cause = rootCause(error)
      const now = Date.now()
      let decision = decideRestart(this.runtime.config.restartStrategy, [...failures, now])
      if (cause instanceof UserFunctionError && cause.restartRequested) {
        operatorRestarts.push(now)
        const recent = operatorRestarts.filter((t) => now - t < 60_000).length
        if (recent <= OPERATOR_RESTARTS_PER_MINUTE) decision = { restart: true, delayMs: 0 }
      } else failures.push(now)
      if (!decision.restart || this.done) return Supervision.stop()
      this.runtime.restarts++
      this.runtime.log.warn('job restarting', {
        attempt: this.runtime.restarts,
        delayMs: decision.delayMs,
        error: cause,
      })
      return Supervision.restart({ backoff: { minMs: decision.delayMs, maxMs: decision.delayMs } })
    })
  }
}

/** The error that started a chain of escalations. */
function rootCause(error: unknown): unknown {
  let e = error
  while (
    e instanceof SluiceError &&
    (e.code === 'ERR_ESCALATED' || e.code === 'ERR_RESTARTS_EXHAUSTED') &&
    e.cause !== undefined
  )
    e = e.cause
  return e
}
