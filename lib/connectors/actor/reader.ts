import { ConnectorError } from '../../errors.js'
import type { Logger } from '../../logging.js'
import { Availability } from '../../runtime/availability.js'
import type { MetricGroup } from '../../runtime/metric-group.js'
import type { DeadLetter } from '../../runtime/output-tag.js'
import type { InputStatus, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'
import { Deferred } from '../../util/deferred.js'
import { CheckpointAnswers } from '../base/checkpoint-answers.js'
import { IdempotencyKeys } from '../base/idempotency-keys.js'
import type { ActorRef } from '../../actors/actor-ref.js'
import type { BoundedMailbox } from '../../actors/mailbox.js'
import { RingBuffer } from '../../actors/ring-buffer.js'
import type { ActorSourceMessage, ActorSourceReply, ActorSourceSettings, ActorSourceStateV1 } from './options.js'

/** Records one poll emits at most (whole messages: a larger message goes out whole). */
const POLL_RECORDS = 256

/** A record or batch message, as the source's actor received it. */
export type DataMessage<T> = Extract<ActorSourceMessage<T>, { type: 'record' | 'batch' }>

/** Checkpointed mode: a taken message's id and the answers owed once a checkpoint covers it. */
interface Owed {
  /** The message id. */
  readonly key: string | undefined
  readonly records: number
  /** Resends of the id join the first. */
  readonly replies: Array<ActorRef<ActorSourceReply>>
}

/** What a reader needs of its source: registration with the source's actor. */
export interface ActorReaderHost {
  readonly name: string
  opened(reader: ActorSourceReader<unknown>): Promise<void>
  closed(reader: ActorSourceReader<unknown>): Promise<void>
  /** The reader emitted records (made room); a bridged host reports it to the coordinating thread. */
  polled?(): void
}

/**
 * What the source's actor needs of a subtask: its reader on the same thread, or (worker executor) a
 * {@link BridgedSubtask} standing in for a reader in a worker.
 */
export interface ActorSourceSubtask<T> {
  readonly subtask: number
  /** Takes a valid record or batch message, or waits for room (the promise settles once it is taken or refused). */
  offer(message: DataMessage<T>): void | Promise<void>
  refuse(record: unknown, id: string | undefined, replyTo: ActorRef<ActorSourceReply> | undefined, reason: string): void
  /** The stream ends once the buffer is emptied. */
  complete(): void
  /** The source fails at the next poll. */
  fail(error: Error): void
  /**
   * The subtask also takes messages straight from the source's actor's mailbox (its only reader, on the
   * same thread): the records it polls there cross one queue, not two.
   */
  takeFrom?(mailbox: BoundedMailbox<ActorSourceMessage<T>>): void
}

/**
 * The reader of one subtask of the actor source: a bounded buffer of taken messages that `pollNext`
 * empties, filled by the source's actor through {@link offer}. When it is the source's only reader
 * ({@link takeFrom}), `pollNext` then goes on in the actor's mailbox: it takes the record and batch
 * messages at its head itself (answers, counts and emits them as the actor and a later poll would), so
 * while the subtask keeps polling a record crosses one queue; the actor takes what waits between polls
 * (and every other message), as before.
 *
 * Threading: the actor's `receive` and `pollNext` run on the one event loop (in a worker thread the
 * source's actor is on the coordinating thread, and a {@link BridgedReaderHost} offers its messages here). A message's records are
 * taken whole and emitted in one poll, so a barrier never splits a message: a checkpoint holds all of a
 * message's records, with its id, or none of them. Order holds: the mailbox is read only once the
 * buffer is empty and no message waits for room.
 *
 * Bounds: at most `maxBufferedRecords` records wait here (a larger message only into an empty buffer);
 * a message that does not fit makes the actor wait, so later ones wait in its bounded mailbox. What a
 * poll takes from the mailbox it emits at once.
 *
 * @example
 * const reader = actorSource<number>().createReader(context)
 * await reader.start()
 */
export class ActorSourceReader<T> implements SourceReader<T, ActorSourceStateV1>, ActorSourceSubtask<T> {
  readonly subtask: number
  private readonly available = new Availability()
  /** Taken messages; a ring keeps its slots between fills (no regrowth per buffer's worth of messages). */
  private readonly queue = new RingBuffer<DataMessage<T>>()
  private buffered = 0
  /** Records taken since the last poll, added to the `records` counter there (one update per poll, not per message). */
  private taken = 0
  /** The source's actor's mailbox, when this is the source's only reader: polls take from it too. */
  private mailbox: BoundedMailbox<ActorSourceMessage<T>> | undefined
  private readonly checkpointed: boolean
  /**
   * The message the source's actor waits to hand over (it did not fit), and what settles its wait: the
   * poll that makes room takes it at once, so the actor's next messages find a buffer with room and the
   * subtask is not woken for that one message alone.
   */
  private waiting: { readonly message: DataMessage<T>; readonly taken: Deferred } | undefined
  /** Checkpointed mode: what is owed for the messages taken, in order; `emitted` of them since the barrier. */
  private readonly owed = new RingBuffer<Owed>()
  /** Checkpointed mode: messages waiting for their checkpoint, and the ids remembered after it. */
  private readonly answers: CheckpointAnswers<Owed>
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
    this.checkpointed = settings.ackMode === 'checkpointed'
    this.log = context.logger
    this.deadLetter = context.deadLetter
    this.now = () => context.processingTime.now()
    this.answers = new CheckpointAnswers(new IdempotencyKeys(settings.idempotencyWindowMs, this.now, restored, owns))
    const metrics: MetricGroup | undefined = context.metrics
    const counter = (name: string) => metrics?.counter(name) ?? { inc() {} }
    this.records = counter('records')
    this.duplicates = counter('duplicates')
    this.rejected = counter('rejected')
    metrics?.gauge('bufferedRecords', () => this.buffered)
    metrics?.gauge('rememberedIds', () => this.answers.remembered)
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
   * refused because the reader closed). Called by the source's actor, one message at a time; the
   * message is valid (the actor checked it).
   */
  offer(message: DataMessage<T>): void | Promise<void> {
    const { id, replyTo } = message
    if (this.state !== 'open') return this.refuse(message, id, replyTo, `the source is ${this.state}`)
    if (this.checkpointed && id !== undefined && this.answeredAsDuplicate(id, replyTo)) return
    const records = message.type === 'record' ? 1 : message.values.length
    if (!this.fits(records)) return this.waitForRoom(message)
    const owed = this.answerTaken(id, replyTo, records)
    if (records === 0) return
    if (owed !== undefined) this.owed.push(owed)
    this.queue.push(message)
    // only the first record after an empty buffer wakes the subtask: later ones find it polling
    if (this.buffered === 0) this.available.signal()
    this.buffered += records
  }

  /**
   * The only reader of the source, on the actor's thread: polls take messages from the actor's mailbox
   * too, once the buffer is empty.
   *
   * @example
   * reader.takeFrom(mailbox) // the mailbox the source's actor was spawned with
   */
  takeFrom(mailbox: BoundedMailbox<ActorSourceMessage<T>>): void {
    if (this.state === 'open') this.mailbox = mailbox
  }

  /** A refused message (its records, or itself): answered `rejected` when it can be, and a dead letter of the job. */
  refuse(
    record: unknown,
    id: string | undefined,
    replyTo: ActorRef<ActorSourceReply> | undefined,
    reason: string,
  ): void {
    this.rejected.inc()
    replyTo?.tell({ type: 'rejected', id, reason })
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

  /**
   * Emits whole messages, up to {@link POLL_RECORDS} records (a barrier, which comes between polls,
   * never splits a message): the buffer's, then (the only reader) those at the head of the actor's mailbox.
   */
  pollNext(output: SourceOutput<T>): InputStatus {
    if (this.failure !== undefined) throw this.failure
    let emitted = this.buffered > 0 ? this.emitBuffered(output) : 0
    if (emitted > 0) {
      this.buffered -= emitted
      this.host.polled?.()
      this.takeWaiting()
    }
    const mailbox = this.mailbox
    if (mailbox !== undefined && this.buffered === 0 && this.state === 'open') {
      emitted += this.emitFromMailbox(mailbox, output, emitted)
      // a full poll may have left records there; otherwise the actor takes (and announces) what comes next
      if (emitted >= POLL_RECORDS && mailbox.size > 0) {
        this.countTaken()
        return 'more'
      }
    }
    this.countTaken()
    if (emitted === 0) return this.state === 'completed' ? 'end' : 'nothing-available'
    return this.buffered > 0 || this.state === 'completed' ? 'more' : 'nothing-available'
  }

  isAvailable(): Promise<void> {
    // a signal of records that later polls already emitted would only wake the subtask for nothing
    if (this.buffered === 0 && this.state === 'open' && this.failure === undefined) this.available.forget()
    return this.available.promise
  }

  snapshotState(checkpointId: number): ActorSourceStateV1[] {
    if (!this.checkpointed) return []
    return [this.answers.snapshot(checkpointId)]
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.answers.complete(checkpointId, (message) => {
      for (const replyTo of message.replies) replyTo.tell({ type: 'ack', id: message.key, records: message.records })
    })
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.mailbox = undefined
    this.countTaken()
    this.takeWaiting()
    await this.host.closed(this as ActorSourceReader<unknown>)
  }

  /** The buffer's messages, whole, up to {@link POLL_RECORDS} records; returns the records emitted. */
  private emitBuffered(output: SourceOutput<T>): number {
    let emitted = 0
    for (;;) {
      const message = this.queue.shift()
      if (message === undefined) break
      emitted += emitMessage(message, output)
      if (this.checkpointed) this.answers.emitted(this.owed.shift()!)
      if (emitted >= POLL_RECORDS) break
    }
    return emitted
  }

  /**
   * Takes and emits the record and batch messages at the mailbox's head until the poll holds
   * {@link POLL_RECORDS} records; anything else (the end, a failure, a malformed message) stops it, for
   * the actor to handle in order. Returns the records emitted.
   */
  private emitFromMailbox(
    mailbox: BoundedMailbox<ActorSourceMessage<T>>,
    output: SourceOutput<T>,
    emitted: number,
  ): number {
    const checkpointed = this.checkpointed
    let taken = 0
    while (emitted + taken < POLL_RECORDS) {
      const message = mailbox.peek()
      if (message === undefined || !isDataMessage(message)) break
      mailbox.poll()
      const { id, replyTo } = message
      if (checkpointed && id !== undefined && this.answeredAsDuplicate(id, replyTo)) continue
      const records = message.type === 'record' ? 1 : message.values.length
      const owed = this.answerTaken(id, replyTo, records)
      if (records === 0) continue
      taken += emitMessage(message, output)
      if (owed !== undefined) this.answers.emitted(owed)
    }
    return taken
  }

  /** Checkpointed mode: answers a resend of `id` (a duplicate, or joined to the first) and says so. */
  private answeredAsDuplicate(id: string, replyTo: ActorRef<ActorSourceReply> | undefined): boolean {
    if (this.answers.isCovered(id)) {
      this.duplicates.inc()
      replyTo?.tell({ type: 'duplicate', id })
      return true
    }
    const earlier = this.answers.waiting(id)
    if (earlier === undefined) return false
    // a resend while the first still waits for its checkpoint: answered together with it
    this.duplicates.inc()
    if (replyTo !== undefined) earlier.replies.push(replyTo)
    return true
  }

  /**
   * A message's records are taken: acknowledged now ('received'), or tracked until a checkpoint covers
   * them ('checkpointed'; what is owed is returned, to be marked emitted with the records; an empty
   * message counts as emitted at once).
   */
  private answerTaken(
    id: string | undefined,
    replyTo: ActorRef<ActorSourceReply> | undefined,
    records: number,
  ): Owed | undefined {
    this.taken += records
    if (!this.checkpointed) {
      replyTo?.tell({ type: 'ack', id, records })
      return undefined
    }
    const owed: Owed = { key: id, records, replies: replyTo === undefined ? [] : [replyTo] }
    this.answers.track(owed)
    if (records > 0) return owed
    this.answers.emitted(owed)
    return undefined
  }

  private countTaken(): void {
    if (this.taken === 0) return
    this.records.inc(this.taken)
    this.taken = 0
  }

  private fits(records: number): boolean {
    return this.buffered === 0 || this.buffered + records <= this.settings.maxBufferedRecords
  }

  /** Keeps the message until a poll makes room for it (or the reader closes); the actor waits meanwhile. */
  private waitForRoom(message: DataMessage<T>): Promise<void> {
    const taken = new Deferred()
    this.waiting = { message, taken }
    return taken.promise
  }

  /** Takes the waiting message once it fits, or refuses it once the reader is no longer open. */
  private takeWaiting(): void {
    const waiting = this.waiting
    if (waiting === undefined) return
    const { message } = waiting
    if (this.state === 'open' && !this.fits(message.type === 'record' ? 1 : message.values.length)) return
    this.waiting = undefined
    // it fits (or is refused): offer settles at once
    void this.offer(message)
    waiting.taken.resolve()
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

/**
 * A valid record or batch message, which a poll may take from the mailbox itself (anything else goes
 * to the actor, which refuses it or fails as it always did).
 */
function isDataMessage<T>(message: ActorSourceMessage<T>): message is DataMessage<T> {
  if (message === null || typeof message !== 'object') return false
  const { type } = message
  if (type !== 'record' && (type !== 'batch' || malformedBatch(message.values, message.timestamps) !== undefined))
    return false
  const replyTo = message.replyTo as { tell?: unknown } | undefined
  return replyTo === undefined || typeof replyTo?.tell === 'function'
}

/** Emits a message's records; returns how many. */
function emitMessage<T>(message: DataMessage<T>, output: SourceOutput<T>): number {
  if (message.type === 'record') {
    output.collect(message.value, message.timestamp)
    return 1
  }
  const { values, timestamps } = message
  for (let i = 0; i < values.length; i++) output.collect(values[i]!, timestamps?.[i])
  return values.length
}

/**
 * Why a batch message is malformed, or undefined when it is not.
 *
 * @example
 * malformedBatch([1, 2], [1_000]) // 'a batch needs one timestamp per value, or none'
 */
export function malformedBatch(values: unknown, timestamps: unknown): string | undefined {
  if (!Array.isArray(values)) return 'a batch needs an array of values'
  if (timestamps !== undefined && (!Array.isArray(timestamps) || timestamps.length !== values.length))
    return 'a batch needs one timestamp per value, or none'
  return undefined
}
