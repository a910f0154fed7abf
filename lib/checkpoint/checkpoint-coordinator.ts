import { StateError } from '../errors.js'
import type { Logger } from '../logging.js'
import type { CheckpointStorage } from './checkpoint-storage.js'
import type {
  CheckpointBarrier,
  CheckpointMetadata,
  CheckpointStats,
  OperatorCheckpoint,
  StateHandle,
} from './checkpoint-types.js'

/** One operator of the job as the coordinator sees it. */
export interface CoordinatedOperator {
  readonly uid: string
  readonly parallelism: number
  readonly maxParallelism: number
}

/** A subtask's acknowledgement: a handle per operator uid of its chain. */
export interface CheckpointAck {
  readonly checkpointId: number
  readonly subtaskKey: string
  readonly states: Readonly<Record<string, { subtask: number; handle: StateHandle | null }>>
  readonly alignmentMs: number
}

interface Pending {
  readonly barrier: CheckpointBarrier
  readonly waitingFor: Set<string>
  readonly acks: CheckpointAck[]
  alignmentMs: number
  completing: boolean
}

/**
 * Runs the checkpoint protocol for a job (Flink's CheckpointCoordinator): issues barriers with strictly
 * increasing ids, collects every subtask's acknowledgement, completes a checkpoint by writing its
 * metadata, and keeps the statistics. A completion notice may be lost; a later id subsumes it. It
 * lives as long as the job, across restarts, so ids never repeat.
 *
 * @example
 * const barrier = coordinator.trigger(false, Date.now()) // send to sources
 * const done = coordinator.acknowledge(ack)              // the metadata once all subtasks acked
 */
export class CheckpointCoordinator {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private lastCompletedAt = 0
  private consecutiveFailures = 0
  readonly history: CheckpointStats[] = []
  latest: CheckpointMetadata | undefined
  /**
   * Told as soon as a checkpoint's metadata is written: from then on it is what a restart restores, even
   * if a failure aborts the checkpoint before its completion is announced (retention may already have
   * dropped the one before it).
   */
  onDurable: ((metadata: CheckpointMetadata) => void) | undefined = undefined
  /** The checkpoint the current deployment restored from: retention must not drop it. */
  pinned: number | undefined = undefined

  constructor(
    private readonly job: string,
    private readonly operators: readonly CoordinatedOperator[],
    private readonly subtaskKeys: readonly string[],
    readonly storage: CheckpointStorage,
    private readonly settings: { minPauseMs: number; tolerableFailures: number },
    private readonly log: Logger,
  ) {}

  /** Continues numbering after a restored checkpoint. */
  restoredFrom(metadata: CheckpointMetadata): void {
    this.nextId = Math.max(this.nextId, metadata.id + 1)
    this.latest = metadata
  }

  get inProgress(): number {
    return this.pending.size
  }

  /**
   * Starts a checkpoint unless one is running or the minimum pause has not passed (a savepoint, or a
   * forced checkpoint such as the final one, waits for neither). Returns its barrier, or undefined when
   * it did not start.
   */
  trigger(savepoint: boolean, now: number, force = false): CheckpointBarrier | undefined {
    if (!savepoint && !force && (this.pending.size > 0 || now - this.lastCompletedAt < this.settings.minPauseMs))
      return undefined
    const barrier: CheckpointBarrier = { kind: 'barrier', id: this.nextId++, timestamp: now, savepoint }
    this.pending.set(barrier.id, {
      barrier,
      waitingFor: new Set(this.subtaskKeys),
      acks: [],
      alignmentMs: 0,
      completing: false,
    })
    this.history.push({
      id: barrier.id,
      savepoint,
      triggeredAt: now,
      status: 'in-progress',
      durationMs: 0,
      bytes: 0,
      alignmentMs: 0,
    })
    return barrier
  }

  /** The barriers of checkpoints still waiting for a subtask (to hand to one that just ended its input). */
  pendingFor(subtaskKey: string): CheckpointBarrier[] {
    return [...this.pending.values()].filter((p) => p.waitingFor.has(subtaskKey)).map((p) => p.barrier)
  }

  /**
   * Records an acknowledgement; when it was the last, writes the metadata (the commit point) and
   * resolves with it. Acks of unknown (aborted, subsumed) checkpoints are ignored.
   */
  async acknowledge(ack: CheckpointAck): Promise<CheckpointMetadata | undefined> {
    const p = this.pending.get(ack.checkpointId)
    if (p === undefined || !p.waitingFor.delete(ack.subtaskKey)) return undefined
    p.acks.push(ack)
    p.alignmentMs = Math.max(p.alignmentMs, Math.round(ack.alignmentMs * 1000) / 1000)
    if (p.waitingFor.size > 0 || p.completing) return undefined
    p.completing = true
    const metadata = this.metadataOf(p)
    await this.storage.complete(metadata)
    if (this.latest === undefined || metadata.id > this.latest.id) {
      this.latest = metadata
      this.onDurable?.(metadata)
    }
    await this.storage.prune(metadata.id, this.pinned === undefined ? [] : [this.pinned])
    if (!this.pending.has(p.barrier.id)) return undefined
    this.pending.delete(p.barrier.id)
    for (const [id] of this.pending)
      if (id < p.barrier.id) this.abort(id, `subsumed by checkpoint ${p.barrier.id}`, false, 'subsumed')
    const now = Date.now()
    this.lastCompletedAt = now
    this.consecutiveFailures = 0
    this.updateStats(p.barrier.id, {
      status: 'completed',
      durationMs: now - p.barrier.timestamp,
      bytes: metadata.bytes,
      alignmentMs: p.alignmentMs,
    })
    this.log.info('checkpoint completed', {
      checkpoint: p.barrier.id,
      durationMs: now - p.barrier.timestamp,
      bytes: metadata.bytes,
      alignmentMs: p.alignmentMs,
    })
    return metadata
  }

  /**
   * Aborts a checkpoint (timeout, a subtask declined, restart; or, not failures, subsumed by a later one
   * or abandoned at the end of input). Returns true when failures in a row now exceed what the job
   * tolerates.
   */
  abort(
    checkpointId: number,
    reason: string,
    countsAsFailure = false,
    outcome: 'failed' | 'subsumed' | 'abandoned' = 'failed',
  ): boolean {
    const p = this.pending.get(checkpointId)
    if (p === undefined) return false
    this.pending.delete(checkpointId)
    this.updateStats(checkpointId, {
      status: outcome,
      durationMs: Date.now() - p.barrier.timestamp,
      ...(outcome === 'failed' ? { failure: reason } : {}),
    })
    // once its metadata is being written it may be durable (and restored from): retention drops it later
    if (!p.completing) void this.storage.discard(checkpointId).catch(() => {})
    if (outcome === 'failed') this.log.warn('checkpoint aborted', { checkpoint: checkpointId, reason })
    else this.log.info(`checkpoint ${outcome}`, { checkpoint: checkpointId, reason })
    if (!countsAsFailure) return false
    this.consecutiveFailures++
    return this.consecutiveFailures > this.settings.tolerableFailures
  }

  /** Aborts everything in flight: the job restarts (failed), or its input has ended (abandoned). */
  abortAll(reason: string, outcome: 'failed' | 'abandoned' = 'failed'): void {
    for (const id of [...this.pending.keys()]) this.abort(id, reason, false, outcome)
  }

  private metadataOf(p: Pending): CheckpointMetadata {
    const operators: Record<string, OperatorCheckpoint> = {}
    for (const op of this.operators)
      operators[op.uid] = {
        parallelism: op.parallelism,
        maxParallelism: op.maxParallelism,
        subtasks: new Array(op.parallelism).fill(null),
      }
    let bytes = 0
    for (const ack of p.acks) {
      for (const [uid, { subtask, handle }] of Object.entries(ack.states)) {
        const op = operators[uid]
        if (op === undefined)
          throw new StateError('ERR_STATE_UNCLAIMED', `acknowledgement names unknown operator ${uid}`)
        ;(op.subtasks as Array<StateHandle | null>)[subtask] = handle
        bytes += handle?.bytes ?? 0
      }
    }
    return {
      format: 1,
      id: p.barrier.id,
      timestamp: p.barrier.timestamp,
      job: this.job,
      savepoint: p.barrier.savepoint,
      operators,
      bytes,
    }
  }

  private updateStats(id: number, change: Partial<CheckpointStats>): void {
    const i = this.history.findIndex((s) => s.id === id)
    if (i >= 0) this.history[i] = { ...this.history[i]!, ...change }
    if (this.history.length > 100) this.history.splice(0, this.history.length - 100)
  }
}
