import type { ActorRef } from '../../actors/actor-ref.js'
import { ConnectorError } from '../../errors.js'
import type { SinkWriter, SinkWriterContext } from '../../runtime/sink.js'
import type { ProcessingTimeService } from '../../time/processing-time.js'
import { Deferred } from '../../util/deferred.js'
import { Fifo } from '../../util/fifo.js'
import { CallbackRef } from './callback-ref.js'
import type { ActorSinkAck, ActorSinkMessage, ActorSinkSettings } from './options.js'

/**
 * The writer of one subtask of the actor sink: tells the target `init`, waits for its ack, then one
 * `record` per value, with at most `maxUnacknowledged` unacknowledged (`ready()` waits past it). A
 * barrier and the end of input wait until every record sent is acknowledged (at-least-once); the end
 * of input then tells `complete`, a failure or cancel tells `failure`.
 *
 * Fails (the job restarts from its last checkpoint, and the records since are sent again) when the
 * target terminates (ERR_TARGET_TERMINATED), refuses a message (ERR_UNDELIVERED: its mailbox is full
 * with messages of other senders), or leaves one unacknowledged for `ackTimeoutMs` (ERR_ACK_TIMEOUT).
 *
 * Threading: acks are told on the event loop that runs the writer. In a worker thread the target is a
 * {@link BridgedTarget}: messages and acks cross a MessagePort to the coordinating thread.
 *
 * @example
 * const writer = actorSink({ target: collector }).createWriter(context)
 * await writer.ready()
 * writer.write('hello', undefined)
 */
export class ActorSinkWriter<T> implements SinkWriter<T> {
  private readonly target: ActorRef<ActorSinkMessage<T>>
  private readonly inbox: ActorRef<ActorSinkAck>
  private readonly time: ProcessingTimeService
  /** When each unacknowledged message (the `init` first) was sent, oldest first. */
  private readonly sentAt = new Fifo<number>()
  private outstanding = 0
  /** Records written while the window was full (at most a batch: `ready()` holds back the next one). */
  private readonly queued = new Fifo<ActorSinkMessage<T>>()
  private initialized = false
  private waiting: Deferred | undefined
  private failure: Error | undefined
  private finished = false
  private cancelTimer: (() => void) | undefined
  private readonly acks
  private readonly sent

  /** `target` stands in for `settings.target` in a worker thread (a {@link BridgedTarget}). */
  constructor(
    private readonly settings: ActorSinkSettings<T>,
    context: SinkWriterContext,
    target: ActorRef<ActorSinkMessage<T>> = settings.target,
  ) {
    this.target = target
    this.time = context.processingTime
    this.inbox = new CallbackRef<ActorSinkAck>(`${this.target.path}/acks-${context.subtask}`, () => this.acked())
    this.sent = context.metrics?.counter('records') ?? { inc() {} }
    this.acks = context.metrics?.counter('acks') ?? { inc() {} }
    context.metrics?.gauge('unacknowledged', () => this.outstanding)
    void this.target.terminated.then(() => {
      if (!this.finished)
        this.fail(new ConnectorError('ERR_TARGET_TERMINATED', `actor sink target ${this.target.path} terminated`))
    })
    this.send({ type: 'init', replyTo: this.inbox })
  }

  /** Records (and the `init`) sent and not yet acknowledged; records written wait past `maxUnacknowledged`. */
  get unacknowledged(): number {
    return this.outstanding
  }

  write(value: T, timestamp: number | undefined): void {
    if (this.failure !== undefined) throw this.failure
    const message: ActorSinkMessage<T> = { type: 'record', value, timestamp, replyTo: this.inbox }
    if (this.initialized && this.outstanding < this.settings.maxUnacknowledged && this.queued.size === 0)
      this.send(message)
    else this.queued.push(message)
  }

  ready(): Promise<void> | undefined {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.initialized && this.outstanding + this.queued.size < this.settings.maxUnacknowledged) return undefined
    this.waiting ??= new Deferred()
    return this.waiting.promise
  }

  /** Waits until every record sent is acknowledged; at the end of input, tells the target `complete`. */
  async flush(endOfInput: boolean): Promise<void> {
    while (this.outstanding > 0 || this.queued.size > 0) {
      if (this.failure !== undefined) throw this.failure
      this.waiting ??= new Deferred()
      await this.waiting.promise
    }
    if (this.failure !== undefined) throw this.failure
    if (endOfInput && !this.finished) {
      this.finished = true
      this.target.tell({ type: 'complete' })
    }
  }

  close(): void {
    this.cancelTimer?.()
    if (this.finished) return
    this.finished = true
    this.queued.clear()
    this.target.tell({ type: 'failure', reason: this.failure?.message ?? 'the job was cancelled or failed' })
  }

  private send(message: ActorSinkMessage<T>): void {
    if (message.type === 'record') this.sent.inc()
    this.outstanding++
    this.sentAt.push(this.time.now())
    if (!this.target.tell(message))
      this.undelivered(this.target.isAlive ? 'refused it: its mailbox is full' : 'has terminated')
    this.cancelTimer ??= this.time.scheduleAt(this.time.now() + this.settings.ackTimeoutMs, () => this.checkTimeout())
  }

  /**
   * The target did not take a message (`why`: 'refused it: …' or 'has terminated'): the writer fails
   * with ERR_UNDELIVERED.
   *
   * @example
   * writer.undelivered('refused it: its mailbox is full')
   */
  undelivered(why: string): void {
    this.fail(new ConnectorError('ERR_UNDELIVERED', `actor sink target ${this.target.path} ${why}`))
  }

  private acked(): void {
    if (this.outstanding === 0 || this.finished) return
    this.outstanding--
    this.sentAt.shift()
    if (this.initialized) this.acks.inc()
    this.initialized = true
    while (this.outstanding < this.settings.maxUnacknowledged && this.failure === undefined) {
      const next = this.queued.shift()
      if (next === undefined) break
      this.send(next)
    }
    if (this.waiting !== undefined && this.outstanding + this.queued.size < this.settings.maxUnacknowledged) {
      const waiting = this.waiting
      this.waiting = undefined
      waiting.resolve()
    }
  }

  private checkTimeout(): void {
    this.cancelTimer = undefined
    const oldest = this.sentAt.peek()
    if (oldest === undefined || this.failure !== undefined) return
    const deadline = oldest + this.settings.ackTimeoutMs
    if (this.time.now() >= deadline) {
      const what = this.initialized ? 'a record' : 'init'
      this.fail(
        new ConnectorError(
          'ERR_ACK_TIMEOUT',
          `actor sink target ${this.target.path} did not acknowledge ${what} within ${this.settings.ackTimeoutMs} ms`,
        ),
      )
      return
    }
    this.cancelTimer = this.time.scheduleAt(deadline, () => this.checkTimeout())
  }

  private fail(error: Error): void {
    this.failure ??= error
    const waiting = this.waiting
    this.waiting = undefined
    // whoever waits gets the rejection; marked handled for the case no one does any more
    waiting?.promise.catch(() => {})
    waiting?.reject(this.failure)
  }
}
