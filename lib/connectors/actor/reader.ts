import { ConnectorError } from '../../errors.js'
import type { Logger } from '../../logging.js'
import { Availability } from '../../runtime/availability.js'
import type { MetricGroup } from '../../runtime/metric-group.js'
import type { DeadLetter } from '../../runtime/output-tag.js'
import type { InputStatus, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { Deferred } from '../../util/deferred.js'
import { Fifo } from '../../util/fifo.js'
import { IdempotencyKeys } from '../base/idempotency-keys.js'
import type { ActorSourceReply, ActorSourceSettings, ActorSourceStateV1 } from './options.js'

/** One message's records, taken whole, with who waits for its answer. */
export interface TakenMessage<T> {
  readonly values: readonly T[]
  readonly timestamps: readonly number[] | undefined
  readonly id: string | undefined
  /** Checkpointed mode: the answers owed once a checkpoint covers the records (resends of the id join). */
  readonly replies: Array<(reply: ActorSourceReply) => void>
}

/** What a reader needs of its source: registration with the source's actor. */
export interface ActorReaderHost {
  readonly name: string
  opened(reader: ActorSourceReader<unknown>): Promise<void>
  closed(reader: ActorSourceReader<unknown>): Promise<void>
}

/**
 * The reader of one subtask of the actor source: a bounded buffer of taken messages that `pollNext`
 * empties, filled by the source's actor through {@link offer}.
 *
 * Threading: the actor's `receive` and `pollNext` run on the one event loop. A message's records are
 * taken whole and emitted in one poll, so a barrier never splits a message: a checkpoint holds all of a
 * message's records, with its id, or none of them.
 *
 * Bounds: at most `maxBufferedRecords` records wait here (a larger message only into an empty buffer);
 * a message that does not fit makes the actor wait, so later ones wait in its bounded mailbox.
 *
 * @example
 * const reader = actorSource<number>().createReader(context)
 * await reader.start()
 */
export class ActorSourceReader<T> implements SourceReader<T, ActorSourceStateV1> {
  readonly subtask: number
  private readonly available = new Availability()
  private readonly queue = new Fifo<TakenMessage<T>>()
  private buffered = 0
  private room: Deferred | undefined
  private emitted: TakenMessage<T>[] = []
  private readonly pending: Array<{ checkpointId: number; messages: TakenMessage<T>[] }> = []
  /** Checkpointed mode: ids taken and not yet covered. */
  private readonly inflight = new Map<string, TakenMessage<T>>()
  private readonly keys: IdempotencyKeys
  private readonly log: Logger | undefined
  private readonly deadLetter: ((letter: DeadLetter) => void) | undefined
  private readonly now: () => number
  private readonly records
  private readonly duplicates
  private readonly rejected
  private state: 'created' | 'open' | 'completed' | 'closed' = 'created'
  private failure: Error | undefined

  constructor(
    private readonly settings: ActorSourceSettings,
    private readonly host: ActorReaderHost,
    context: SourceReaderContext,
    restored: readonly unknown[],
    owns: (id: string) => boolean,
  ) {
    this.subtask = context.subtask
    this.log = context.logger
    this.deadLetter = context.deadLetter
    this.now = () => context.processingTime.now()
    this.keys = new IdempotencyKeys(settings.idempotencyWindowMs, this.now, restored, owns)
    const metrics: MetricGroup | undefined = context.metrics
    const counter = (name: string) => metrics?.counter(name) ?? { inc() {} }
    this.records = counter('records')
    this.duplicates = counter('duplicates')
    this.rejected = counter('rejected')
    metrics?.gauge('bufferedRecords', () => this.buffered)
    metrics?.gauge('rememberedIds', () => this.keys.size)
  }

  /** Records taken and not yet emitted. */
  get bufferedRecords(): number {
    return this.buffered
  }

  async start(): Promise<void> {
    this.state = 'open'
    await this.host.opened(this as ActorSourceReader<unknown>)
  }

  /**
   * Takes a message's records, or waits for room: the promise settles once they are taken (or
   * refused because the reader closed). Called by the source's actor, one message at a time.
   */
  offer(
    values: readonly T[],
    timestamps: readonly number[] | undefined,
    id: string | undefined,
    reply: ((reply: ActorSourceReply) => void) | undefined,
  ): void | Promise<void> {
    if (this.state !== 'open') return this.refuse(values, id, reply, `the source is ${this.state}`)
    const checkpointed = this.settings.ackMode === 'checkpointed'
    if (checkpointed && id !== undefined) {
      if (this.keys.has(id)) {
        this.duplicates.inc()
        reply?.({ type: 'duplicate', id })
        return
      }
      const earlier = this.inflight.get(id)
      if (earlier !== undefined) {
        // a resend while the first still waits for its checkpoint: answered together with it
        this.duplicates.inc()
        if (reply !== undefined) earlier.replies.push(reply)
        return
      }
    }
    if (!this.fits(values.length)) return this.waitForRoom(values, timestamps, id, reply)
    const taken: TakenMessage<T> = { values, timestamps, id, replies: [] }
    if (!checkpointed) reply?.({ type: 'ack', id, records: values.length })
    else {
      if (reply !== undefined) taken.replies.push(reply)
      if (id !== undefined) this.inflight.set(id, taken)
    }
    this.records.inc(values.length)
    if (values.length === 0) {
      if (checkpointed) this.emitted.push(taken)
      return
    }
    this.queue.push(taken)
    this.buffered += values.length
    this.available.signal()
  }

  /** A refused message (its records, or itself): answered `rejected` when it can be, and a dead letter of the job. */
  refuse(
    record: unknown,
    id: string | undefined,
    reply: ((reply: ActorSourceReply) => void) | undefined,
    reason: string,
  ): void {
    this.rejected.inc()
    reply?.({ type: 'rejected', id, reason })
    const letter = { operator: this.host.name, subtask: this.subtask, reason, record, at: this.now() }
    if (this.deadLetter !== undefined && this.state !== 'closed') this.deadLetter(letter)
    else this.log?.warn('actor source refused a message', { subtask: this.subtask, id, reason })
  }

  /** The stream ends here once the buffer is emptied (a `complete` message). */
  complete(): void {
    if (this.state === 'open') this.state = 'completed'
    this.available.signal()
  }

  /** The source fails at its next poll (a `fail` message, or an overflow with overflow 'fail'). */
  fail(error: Error): void {
    this.failure ??= error
    this.available.signal()
  }

  pollNext(output: SourceOutput<T>): InputStatus {
    if (this.failure !== undefined) throw this.failure
    const message = this.queue.shift()
    if (message === undefined) return this.state === 'completed' ? 'end' : 'nothing-available'
    const { values, timestamps } = message
    for (let i = 0; i < values.length; i++) output.collect(values[i]!, timestamps?.[i])
    this.buffered -= values.length
    if (this.settings.ackMode === 'checkpointed') this.emitted.push(message)
    if (this.room !== undefined) {
      const room = this.room
      this.room = undefined
      room.resolve()
    }
    return this.buffered > 0 || this.state === 'completed' ? 'more' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    return this.available.promise
  }

  snapshotState(checkpointId: number): ActorSourceStateV1[] {
    if (this.settings.ackMode !== 'checkpointed') return []
    this.pending.push({ checkpointId, messages: this.emitted })
    this.emitted = []
    const pendingIds: string[] = []
    for (const p of this.pending) for (const m of p.messages) if (m.id !== undefined) pendingIds.push(m.id)
    return [this.keys.state(pendingIds)]
  }

  notifyCheckpointComplete(checkpointId: number): void {
    let n = 0
    while (n < this.pending.length && this.pending[n]!.checkpointId <= checkpointId) n++
    if (n === 0) return
    const covered: string[] = []
    for (const { messages } of this.pending.splice(0, n))
      for (const message of messages) {
        for (const reply of message.replies) reply({ type: 'ack', id: message.id, records: message.values.length })
        if (message.id === undefined) continue
        covered.push(message.id)
        this.inflight.delete(message.id)
      }
    this.keys.cover(covered)
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.room?.resolve()
    this.room = undefined
    await this.host.closed(this as ActorSourceReader<unknown>)
  }

  private fits(records: number): boolean {
    return this.buffered === 0 || this.buffered + records <= this.settings.maxBufferedRecords
  }

  private async waitForRoom(
    values: readonly T[],
    timestamps: readonly number[] | undefined,
    id: string | undefined,
    reply: ((reply: ActorSourceReply) => void) | undefined,
  ): Promise<void> {
    while (this.state === 'open' && !this.fits(values.length)) {
      this.room ??= new Deferred()
      await this.room.promise
    }
    return this.offer(values, timestamps, id, reply)
  }
}

/**
 * The error an overflowing mailbox fails the source with (overflow 'fail').
 *
 * @example
 * reader.fail(overflowError('/user/ingest', 1024))
 */
export function overflowError(path: string, capacity: number): ConnectorError {
  return new ConnectorError(
    'ERR_OVERFLOW',
    `actor source ${path}: a message found the mailbox full (${capacity} messages); senders must wait for acks (overflow 'fail')`,
  )
}
