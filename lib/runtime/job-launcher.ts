import { ActorSystem } from '../actors/actor-system.js'
import type { ActorRef } from '../actors/actor-ref.js'
import { CheckpointCoordinator } from '../checkpoint/checkpoint-coordinator.js'
import type { CheckpointMetadata } from '../checkpoint/checkpoint-types.js'
import { DirectoryStorage } from '../checkpoint/directory-storage.js'
import { MemoryStorage } from '../checkpoint/memory-storage.js'
import { type RestoreSource, checkClaims } from '../checkpoint/state-assignment.js'
import { type SluiceError, type StateError, messageOf } from '../errors.js'
import type { Logger } from '../logging.js'
import { QueryableRegistry } from '../queryable/queryable-registry.js'
import { JobServer } from '../server/job-server.js'
import type { ResolvedConfig } from './job-config.js'
import { buildJobGraph } from './job-graph.js'
import { type JobMasterMessage, type JobRuntime, jobMasterBehavior } from './job-master.js'
import { MetricsRegistry } from './job-metrics.js'
import type { DeadLetter } from './output-tag.js'
import { restartSupervision, rootCause } from './restart-supervision.js'
import type { StreamGraph } from './stream-graph.js'
import type { SubtaskHost } from './subtask-host.js'

/** What the launcher tells the job's facade as the job goes. */
export interface LaunchListener {
  running(): void
  finished(): void
  /** The job fails (a failure no restart follows, or one while booting). */
  failed(error: unknown): void
  restarting(cause: unknown, delayMs: number): void
  deadLetter(letter: DeadLetter): void
  /** The job has ended: nothing restarts any more. */
  stopped(): boolean
}

/**
 * Starts a job and keeps it going (Flink's Dispatcher and JobManager start-up): builds the job graph
 * and the checkpoint coordinator, finds what to restore, starts the query server, the actor system and
 * the job master supervised by the restart strategy, and tears all of it down at the end. The
 * {@link JobHandle} is the user's facade over it.
 *
 * @example
 * const launcher = new JobLauncher('orders', jobId, graph, config, localSubtaskHost, listener)
 * await launcher.boot()
 */
export class JobLauncher {
  readonly runtime: JobRuntime
  private readonly system: ActorSystem
  private master: ActorRef<JobMasterMessage> | undefined
  private queryServer: JobServer | undefined
  private ownsQueryServer = false
  /** Why the job fails, when that is more than its last error (a restart budget used up). */
  finalError: SluiceError | undefined

  constructor(
    name: string,
    id: string,
    private readonly graph: StreamGraph,
    config: ResolvedConfig,
    host: SubtaskHost,
    private readonly listener: LaunchListener,
    startedAt: number,
  ) {
    const log = config.logger.child({ job: name, jobId: id })
    if (config.checkpointing === undefined) warnOfStalls(graph, log)
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
      host,
      config,
      log,
      metrics: new MetricsRegistry(startedAt),
      startedAt,
      restarts: 0,
      deadLetter: (letter) => {
        this.runtime.metrics.deadLetters++
        log.warn('dead letter', { operator: letter.operator, subtask: letter.subtask, reason: letter.reason })
        listener.deadLetter(letter)
      },
      onFinished: () => listener.finished(),
      onRunning: () => {
        this.runtime.queryables.serving = true
        log.info('job running', { restarts: this.runtime.restarts })
        listener.running()
      },
    }
    if (coordinator !== undefined)
      coordinator.onDurable = (metadata) => {
        this.runtime.restore = { metadata, read: (handle) => coordinator.storage.readState(handle) }
      }
    this.system = new ActorSystem({ name: `job-${id}` })
    this.system.failures.subscribe(({ error }) => listener.failed(rootCause(error)))
    const server = config.queryableState
    if (server instanceof JobServer) this.queryServer = server
  }

  /**
   * Throws at once what can be known before the job starts: a `restoreFrom` that is no savepoint
   * directory, or whose state this job does not claim.
   *
   * @example
   * JobLauncher.checkSavepoint(graph, config)
   */
  static checkSavepoint(graph: StreamGraph, config: ResolvedConfig): void {
    if (config.restoreFrom === undefined) return
    const metadata = DirectoryStorage.savepointMetadata(config.restoreFrom)
    checkClaims(metadata, claimsOf(graph), config.allowNonRestoredState, savepointOrigin(config.restoreFrom, metadata))
  }

  /** Where queryable state and the job server are served, once known. */
  get queryServerUrl(): string | undefined {
    return this.queryServer?.url
  }

  /** Finds what to restore (a savepoint, or the newest checkpoint in storage), checks it, deploys. */
  async boot(): Promise<void> {
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
      const dropped = checkClaims(restore.metadata, claimsOf(this.graph), config.allowNonRestoredState, origin)
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
    if (this.listener.stopped()) return
    log.info('job starting', { vertices: this.runtime.vertices.map((v) => `${v.name} ×${v.parallelism}`) })
    this.master = this.system.spawn(jobMasterBehavior(this.runtime), {
      name: 'job-master',
      supervision: restartSupervision(config.restartStrategy, {
        stopped: () => this.listener.stopped(),
        budgetUsedUp: (error) => {
          this.finalError = error
        },
        restarting: (cause, delayMs) => {
          this.runtime.restarts++
          this.runtime.log.warn('job restarting', { attempt: this.runtime.restarts, delayMs, error: cause })
          this.listener.restarting(cause, delayMs)
        },
      }),
    })
  }

  /** Tells the job master; false when it is not (or no longer) there. */
  tell(message: JobMasterMessage): boolean {
    return this.master?.tell(message) ?? false
  }

  /** Stops serving queries only (the job ended; its actors stop next). */
  async stopServingQueries(): Promise<void> {
    this.runtime.queryables.clear()
    if (this.ownsQueryServer) {
      this.ownsQueryServer = false
      await this.queryServer?.close()
    }
  }

  /** Stops every actor of the job. */
  terminate(): Promise<void> {
    return this.system.terminate()
  }

  private async serveQueries(): Promise<void> {
    const option = this.runtime.config.queryableState
    if (option === undefined || option instanceof JobServer) return
    this.ownsQueryServer = true
    this.queryServer = await JobServer.start({ logger: this.runtime.config.logger, ...option })
    this.runtime.log.info('job server started', { url: this.queryServer.url })
  }
}

/** The maxParallelism of each operator uid of the job: what a checkpoint's state must fit. */
function claimsOf(graph: StreamGraph): Map<string, number> {
  return new Map(graph.nodes.map((n) => [n.uid, n.maxParallelism]))
}

/** How errors and log lines name a savepoint restored from. */
function savepointOrigin(path: string, metadata: CheckpointMetadata): string {
  return `savepoint ${path} (checkpoint ${metadata.id})`
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
