import { randomUUID } from 'node:crypto'
import { type Observable, Subject, interval, map as rxMap, takeUntil } from 'rxjs'
import { ActorSystem } from '../actors/actor-system.js'
import type { ActorRef } from '../actors/actor-ref.js'
import { Supervision, type SupervisorStrategy } from '../actors/supervision.js'
import type { ResolvedConfig } from './job-config.js'
import { SluiceError, StateError, UserFunctionError, messageOf } from '../errors.js'
import type { Logger } from '../logging.js'
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
import { JobServer } from '../server/job-server.js'
import { errorChain } from '../util/error-chain.js'
import type { JobVertex } from './job-graph.js'
import { type JobException, type JobStatus, type RegisteredJob, jobRegistry } from './job-registry.js'
import type { StreamGraph } from './stream-graph.js'

/** How a job ended, when it did not fail. */
export interface JobResult {
  readonly status: 'finished' | 'cancelled'
  readonly durationMs: number
  readonly metrics: JobMetricsSnapshot
}

/** Failures kept for `exceptions()`, newest last. */
const RETAINED_EXCEPTIONS = 32

/** Restarts a failing operator with the `restart` policy may cause within a minute, whatever the job strategy. */
const OPERATOR_RESTARTS_PER_MINUTE = 3
const OPERATOR_RESTART_WINDOW_MS = 60_000

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
  private queryServer: JobServer | undefined
  private ownsQueryServer = false
  /** Why the job fails, when that is more than its last error (a restart budget used up). */
  private finalError: SluiceError | undefined
  private state: JobStatus = 'initializing'
  private readonly failures: JobException[] = []

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
    if (config.checkpointing === undefined) warnOfStalls(graph, log)
    const startedAt = this.startedAt
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
        this.state = 'running'
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
    const server = config.queryableState
    if (server instanceof JobServer) this.queryServer = server
    jobRegistry.add(this)
    this.boot(graph).catch((error) => this.fail(error))
  }

  /** Finds what to restore (a savepoint, or the newest checkpoint in storage), checks it, deploys. */
  private async boot(graph: StreamGraph): Promise<void> {
    const { config, coordinator, log } = this.runtime
    let restore: RestoreSource | undefined
    if (config.restoreFrom !== undefined) restore = await DirectoryStorage.openSavepoint(config.restoreFrom)
    else if (coordinator !== undefined && config.checkpointing!.resume) {
      const metadata = await coordinator.storage.latest().catch((error: unknown) => {
        if ((error as StateError).code !== 'ERR_NO_READABLE_CHECKPOINT') throw error
        if (config.checkpointing!.onUnreadableCheckpoints !== 'start-fresh') throw error
        log.warn('starting from empty state: no checkpoint can be read (onUnreadableCheckpoints start-fresh)', {
          reason: messageOf(error),
        })
        return undefined
      })
      if (metadata !== undefined) restore = { metadata, read: (handle) => coordinator.storage.readState(handle) }
    }
    if (restore !== undefined) {
      const origin =
        config.restoreFrom === undefined
          ? `checkpoint ${restore.metadata.id} in ${coordinator!.storage.description}`
          : savepointOrigin(config.restoreFrom, restore.metadata)
      const dropped = checkClaims(restore.metadata, claimsOf(graph), config.allowNonRestoredState, origin)
      if (dropped.length > 0)
        log.warn('dropping state that no operator of this job claims (allowNonRestoredState)', {
          uids: dropped,
          from: origin,
        })
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

  /**
   * @internal Use `env.executeAsync()`. Throws at once what can be known before the job starts: a
   * `restoreFrom` that is no savepoint directory, or whose state this job does not claim.
   */
  static start(name: string, graph: StreamGraph, config: ResolvedConfig): JobHandle {
    if (config.restoreFrom !== undefined) {
      const metadata = DirectoryStorage.savepointMetadata(config.restoreFrom)
      checkClaims(
        metadata,
        claimsOf(graph),
        config.allowNonRestoredState,
        savepointOrigin(config.restoreFrom, metadata),
      )
    }
    return new JobHandle(name, graph, config)
  }

  /**
   * Where this job's queryable state (and the job server) is served, when `queryableState` is configured:
   * at once for a shared {@link JobServer}, once `running` resolves for a server the job starts itself.
   */
  get queryableStateUrl(): string | undefined {
    return this.queryServer?.url
  }

  /** Where the job is in its life: initializing, running, restarting, or how it ended. */
  get status(): JobStatus {
    return this.state
  }

  /** The job's chains of operators (its job graph), each with its parallelism and edges. */
  get vertices(): readonly JobVertex[] {
    return this.runtime.vertices
  }

  /** @internal The queryable states the current deployment serves. */
  get queryables(): QueryableRegistry {
    return this.runtime.queryables
  }

  /** The job's failures (the last 32), each with its root cause's stack and cause chain. */
  exceptions(): readonly JobException[] {
    return this.failures
  }

  private recordFailure(error: unknown, restarted: boolean): void {
    this.failures.push({ time: Date.now(), restarted, error: errorChain(error) })
    if (this.failures.length > RETAINED_EXCEPTIONS) this.failures.shift()
  }

  private async serveQueries(): Promise<void> {
    const option = this.runtime.config.queryableState
    if (option === undefined || option instanceof JobServer) return
    this.ownsQueryServer = true
    this.queryServer = await JobServer.start({ logger: this.runtime.config.logger, ...option })
    this.runtime.log.info('job server started', { url: this.queryServer.url })
  }

  private async stopServingQueries(): Promise<void> {
    this.runtime.queryables.clear()
    jobRegistry.markEnded(this)
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
    this.state = status
    const metrics = this.metrics()
    await this.stopServingQueries()
    await this.system.terminate()
    this.ended.next()
    this.deadLetterSubject.complete()
    this.runtime.log.info(`job ${status}`, { durationMs: metrics.elapsedMs, restarts: metrics.restarts })
    this.settle.resolve({ status, durationMs: metrics.elapsedMs, metrics })
  }

  private fail(failure: unknown): void {
    if (this.done) return
    this.done = true
    const error = this.finalError ?? failure
    this.state = 'failed'
    this.recordFailure(error, false)
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
        const recent = operatorRestarts.filter((t) => now - t < OPERATOR_RESTART_WINDOW_MS)
        if (recent.length <= OPERATOR_RESTARTS_PER_MINUTE) decision = { restart: true, delayMs: 0 }
        else if (!decision.restart) this.finalError = restartBudgetUsedUp(cause, recent.length - 1, now - recent[0]!)
      } else failures.push(now)
      if (!decision.restart || this.done) return Supervision.stop()
      this.runtime.restarts++
      this.state = 'restarting'
      this.recordFailure(cause, true)
      this.runtime.log.warn('job restarting', {
        attempt: this.runtime.restarts,
        delayMs: decision.delayMs,
        error: cause,
      })
      return Supervision.restart({ backoff: { initialDelayMs: decision.delayMs, maxDelayMs: decision.delayMs } })
    })
  }
}

/**
 * The error a job fails with when an operator with `onError: 'restart'` keeps failing: it names the
 * budget used up, and the last failure is its cause.
 */
function restartBudgetUsedUp(cause: UserFunctionError, restarts: number, spanMs: number): SluiceError {
  return new SluiceError(
    'ERR_RESTART_BUDGET_EXHAUSTED',
    `operator ${cause.operator} (subtask ${cause.subtask}) has onError 'restart', but its restart budget is used up: ` +
      `${restarts} restarts in the last ${Math.round(spanMs)} ms (at most ${OPERATOR_RESTARTS_PER_MINUTE} per ` +
      `${OPERATOR_RESTART_WINDOW_MS / 1000} s, and the job's restart strategy allows no more); it failed again on record ${cause.record}: ${messageOf(cause.cause)}`,
    { cause },
  )
}

/** The maxParallelism of each operator uid of the job: what a checkpoint's state must fit. */
function claimsOf(graph: StreamGraph): Map<string, number> {
  return new Map(graph.nodes.map((n) => [n.uid, n.maxParallelism]))
}

/** How errors and log lines name a savepoint restored from. */
function savepointOrigin(path: string, metadata: CheckpointMetadata): string {
  return `savepoint ${path} (checkpoint ${metadata.id})`
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

/** Names each source that acknowledges only on completed checkpoints, in a job that takes none. */
function warnOfStalls(graph: StreamGraph, log: Logger): void {
  for (const node of graph.sources) {
    if (node.source?.acknowledgesOnCheckpoint !== true) continue
    log.warn(
      `source ${node.name} acknowledges messages only when a checkpoint completes, and checkpointing is off: it reads until its broker's window of unacknowledged messages is full, then waits`,
      { source: node.name, uid: node.uid, fix: "enable checkpointing, or use guarantee 'at-most-once'" },
    )
  }
}
