import { StateError } from '../../errors.js'
import type { DeliveryGuarantee } from '../../runtime/sink.js'

/** @deprecated Use {@link DeliveryGuarantee}: one union for what sources and sinks promise about each record. */
export type SourceGuarantee = DeliveryGuarantee

/**
 * A message-queue reader's checkpointed state in exactly-once mode (version 1): the ids of messages
 * that were emitted before the barrier and whose acknowledgement the broker has not yet confirmed,
 * each with 0 (acknowledgement pending) or the wall-clock time its acknowledgement was lost.
 */
export interface AckStateV1 {
  readonly v: 1
  readonly ids: ReadonlyArray<readonly [id: string, orphanedAt: number]>
}

/** The handles of the messages a completed checkpoint covers, oldest first, and how to confirm them. */
export interface CompletedAcks<H> {
  /** One array per checkpoint interval, oldest first; every handle was delivered on the current connection. */
  readonly handles: readonly (readonly H[])[]
  /** How many handles in all. */
  readonly count: number
  /** The broker has processed these acknowledgements: the ids need no more deduplication. */
  confirm(): void
}

interface Bucket<H> {
  readonly serial: number
  readonly handles: H[]
  readonly ids: string[]
  bytes: number
}

/**
 * Acknowledge-on-checkpoint bookkeeping of a message-queue source (Flink's
 * MessageAcknowledgingSourceBase), independent of the broker: the handles (delivery tags, ack ids) of
 * messages taken since the last barrier form one bucket per checkpoint; when checkpoint n completes,
 * the buckets of n and earlier are handed out to be acknowledged (a later completion subsumes a lost
 * notice).
 *
 * Exactly-once (`dedup`): every taken message's id is remembered until the broker confirmed its
 * acknowledgement, and a message whose id is remembered is a duplicate — a redelivery after a lost
 * connection or a restore — that is acknowledged but not emitted. A checkpoint stores the remembered
 * ids, so a restored reader recognises redeliveries of messages emitted before the checkpoint.
 * When a connection is lost, its handles can no longer be acknowledged; their ids become *orphans*,
 * kept until the redelivery arrives or `orphanRetentionMs` has passed (a message whose acknowledgement
 * reached the broker just before the loss is never redelivered).
 *
 * @example
 * const acks = new CheckpointAcks<number>(true, 600_000, Date.now)
 * if (acks.take(msg.fields.deliveryTag, msg.properties.correlationId)) output.collect(msg)
 * const state = acks.snapshot(7)            // on the barrier
 * const done = acks.complete(7)             // when checkpoint 7 completes: ack done.handles, then done.confirm()
 */
export class CheckpointAcks<H> {
  private serial = 1
  private current: Bucket<H> = { serial: 0, handles: [], ids: [], bytes: 0 }
  private readonly pending: Array<{ checkpointId: number; bucket: Bucket<H> }> = []
  /** Remembered ids whose acknowledgement is pending, with the serial of the newest bucket holding them. */
  private readonly live = new Map<string, number>()
  /** Remembered ids whose acknowledgement was lost, with the time it was lost. */
  private readonly orphans = new Map<string, number>()
  private held = 0
  private heldBytes = 0

  constructor(
    readonly dedup: boolean,
    private readonly orphanRetentionMs: number,
    private readonly now: () => number,
    restored: readonly unknown[] = [],
  ) {
    const at = now()
    for (const split of restored) {
      const state = split as Partial<AckStateV1> | null
      if (state === null || typeof state !== 'object' || state.v !== 1 || !Array.isArray(state.ids)) {
        throw new StateError(
          'ERR_STATE_VERSION',
          `message-queue source state ${JSON.stringify(split)?.slice(0, 120)} is not a version 1 acknowledgement state`,
        )
      }
      // Every acknowledgement in a checkpoint was pending on a connection that is gone now.
      for (const [id, orphanedAt] of state.ids) this.orphans.set(id, orphanedAt > 0 ? orphanedAt : at)
    }
  }

  /** Handles taken and not yet handed out for acknowledgement. */
  get unacknowledged(): number {
    return this.held
  }

  /** The bytes of the handles taken and not yet handed out (as given to `take`). */
  get unacknowledgedBytes(): number {
    return this.heldBytes
  }

  /** Ids remembered for deduplication (pending acknowledgement, or orphaned). */
  get rememberedIds(): number {
    return this.live.size + this.orphans.size
  }

  /**
   * Records a message taken from the reader's buffer, in delivery order. Returns false for a
   * duplicate (dedup mode, id remembered): skip it; its handle is acknowledged with its bucket.
   * `bytes`, the message's size, is counted in `unacknowledgedBytes` until the handle is handed out.
   */
  take(handle: H, id: string | undefined, bytes = 0): boolean {
    const bucket = this.current
    bucket.handles.push(handle)
    bucket.bytes += bytes
    this.held++
    this.heldBytes += bytes
    if (!this.dedup || id === undefined) return true
    let duplicate = this.live.has(id)
    if (this.orphans.size > 0 && this.orphans.delete(id)) duplicate = true
    this.live.set(id, bucket.serial)
    bucket.ids.push(id)
    return !duplicate
  }

  /** On the barrier of `checkpointId`: closes the bucket, and returns the state (exactly-once) or nothing. */
  snapshot(checkpointId: number): AckStateV1[] {
    this.pending.push({ checkpointId, bucket: this.current })
    this.current = { serial: this.serial++, handles: [], ids: [], bytes: 0 }
    if (!this.dedup) return []
    const ids: Array<readonly [string, number]> = []
    for (const id of this.live.keys()) ids.push([id, 0])
    for (const entry of this.orphans) ids.push(entry)
    return [{ v: 1, ids }]
  }

  /** Checkpoint `checkpointId` completed: the handles of it and of earlier ones, to acknowledge now. */
  complete(checkpointId: number): CompletedAcks<H> {
    let n = 0
    while (n < this.pending.length && this.pending[n]!.checkpointId <= checkpointId) n++
    const buckets = this.pending.splice(0, n).map((p) => p.bucket)
    let count = 0
    const handles: H[][] = []
    for (const b of buckets) {
      this.heldBytes -= b.bytes
      if (b.handles.length === 0) continue
      handles.push(b.handles)
      count += b.handles.length
    }
    this.held -= count
    this.expireOrphans()
    const confirm = (): void => {
      for (const b of buckets) for (const id of b.ids) if (this.live.get(id) === b.serial) this.live.delete(id)
    }
    return { handles, count, confirm }
  }

  /**
   * The connection that delivered the held messages is gone: their handles are void (the broker
   * delivers them again), and every id pending acknowledgement becomes an orphan.
   */
  connectionLost(): void {
    for (const bucket of [this.current, ...this.pending.map((p) => p.bucket)]) {
      bucket.handles.length = 0
      bucket.ids.length = 0
      bucket.bytes = 0
    }
    this.held = 0
    this.heldBytes = 0
    if (this.live.size === 0) return
    const at = this.now()
    for (const id of this.live.keys()) this.orphans.set(id, at)
    this.live.clear()
  }

  private expireOrphans(): void {
    if (this.orphans.size === 0) return
    const oldest = this.now() - this.orphanRetentionMs
    for (const [id, at] of this.orphans) if (at < oldest) this.orphans.delete(id)
  }
}
