import type { MessagePort } from 'node:worker_threads'
import type { ActorRef } from '../../actors/actor-ref.js'
import { ConnectorError } from '../../errors.js'
import { Deferred } from '../../util/deferred.js'
import { Fifo } from '../../util/fifo.js'
import { CallbackRef } from './callback-ref.js'
import type { ActorSourceReply } from './options.js'
import type { ActorReaderHost, ActorSourceReader, ActorSourceSubtask, DataMessage } from './reader.js'

/** From the coordinating thread to a bridged reader. `reply` numbers a `replyTo` left on this side. */
type ToReader<T> =
  | { readonly t: 'opened' | 'closed' | 'complete' }
  | { readonly t: 'offer'; readonly seq: number; readonly message: DataMessage<T>; readonly reply?: number }
  | {
      readonly t: 'refuse'
      readonly record: unknown
      readonly id?: string
      readonly reply?: number
      readonly reason: string
    }
  | { readonly t: 'fail'; readonly code: string; readonly message: string }

/**
 * From a bridged reader: it opened or closed, an answer for a `replyTo`, and its fill (`buffered`
 * after every offer up to `seq` was handled), which the coordinator's backpressure counts from.
 */
type FromReader =
  | { readonly t: 'open' | 'close' }
  | { readonly t: 'reply'; readonly reply: number; readonly answer: ActorSourceReply }
  | { readonly t: 'room'; readonly seq: number; readonly buffered: number }

/** What a {@link BridgedSubtask} needs of its source on the coordinating thread. */
export interface BridgeHost<T> {
  opened(subtask: ActorSourceSubtask<T>): Promise<void>
  closed(subtask: ActorSourceSubtask<T>): Promise<void>
  /** Refuses a message no reader can take (the bridge closed). */
  refuseUnrouted(message: unknown, reason: string): void
}

/**
 * On the coordinating thread (worker executor): the source's actor's view of a subtask whose reader
 * runs in a worker. It keeps the reader's backpressure: it counts the records the reader holds (as last
 * reported) plus those posted since, and a message that does not fit under `maxBufferedRecords` waits
 * (the actor with it) until the reader reports room, exactly as with a reader on this thread. Each
 * `replyTo` stays here under a number; the reader's answers come back by that number. Values are
 * structured-cloned to the worker.
 *
 * @example
 * const subtask = new BridgedSubtask(0, 1024, port1, host)
 */
export class BridgedSubtask<T> implements ActorSourceSubtask<T> {
  private readonly replies = new Map<number, ActorRef<ActorSourceReply>>()
  /** Offers posted and not yet reported handled: their sequence numbers and records. */
  private readonly inFlight = new Fifo<readonly [seq: number, records: number]>()
  private inFlightRecords = 0
  private reported = 0
  private seq = 0
  private nextReply = 0
  private room: Deferred | undefined
  private state: 'waiting' | 'open' | 'closed' = 'waiting'

  constructor(
    readonly subtask: number,
    private readonly maxBufferedRecords: number,
    private readonly port: MessagePort,
    private readonly host: BridgeHost<T>,
  ) {
    port.on('message', (message: FromReader) => this.receive(message))
    port.on('close', () => void this.close())
    port.unref()
  }

  offer(message: DataMessage<T>): void | Promise<void> {
    if (this.state === 'closed') return this.host.refuseUnrouted(message, 'the source is closed')
    const records = message.type === 'record' ? 1 : message.values.length
    if (!this.fits(records)) return this.waitForRoom(message, records)
    const { replyTo, ...data } = message
    const seq = ++this.seq
    const offer: ToReader<T> = { t: 'offer', seq, message: data as DataMessage<T>, reply: this.remember(replyTo) }
    try {
      this.port.postMessage(offer)
    } catch (error) {
      const reason = `cannot be sent to the worker thread: ${(error as Error).message}`
      return this.refuse('(not cloneable)', message.id, replyTo, reason)
    }
    this.inFlight.push([seq, records])
    this.inFlightRecords += records
  }

  refuse(
    record: unknown,
    id: string | undefined,
    replyTo: ActorRef<ActorSourceReply> | undefined,
    reason: string,
  ): void {
    this.post({ t: 'refuse', record, id, reply: this.remember(replyTo), reason })
  }

  complete(): void {
    this.post({ t: 'complete' })
  }

  fail(error: Error): void {
    this.post({ t: 'fail', code: (error as ConnectorError).code ?? 'ERR_SOURCE_FAILED', message: error.message })
  }

  /** The reader closed, or its worker went away (a restart replaced it): the source forgets this subtask. */
  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve()
    const wasOpen = this.state === 'open'
    this.state = 'closed'
    this.replies.clear()
    this.room?.resolve()
    return wasOpen ? this.host.closed(this) : Promise.resolve()
  }

  private receive(message: FromReader): void {
    switch (message.t) {
      case 'open':
        this.state = 'open'
        void this.host.opened(this).then(() => this.post({ t: 'opened' }))
        return
      case 'close':
        void this.close().then(() => {
          this.port.postMessage({ t: 'closed' } satisfies ToReader<T>)
          this.port.close()
        })
        return
      case 'reply': {
        const replyTo = this.replies.get(message.reply)
        this.replies.delete(message.reply)
        replyTo?.tell(message.answer)
        return
      }
      case 'room':
        for (
          let head = this.inFlight.peek();
          head !== undefined && head[0] <= message.seq;
          head = this.inFlight.peek()
        ) {
          this.inFlight.shift()
          this.inFlightRecords -= head[1]
        }
        this.reported = message.buffered
        if (this.room !== undefined) {
          const room = this.room
          this.room = undefined
          room.resolve()
        }
    }
  }

  private remember(replyTo: ActorRef<ActorSourceReply> | undefined): number | undefined {
    if (replyTo === undefined) return undefined
    const reply = this.nextReply++
    this.replies.set(reply, replyTo)
    return reply
  }

  private post(message: ToReader<T>): void {
    if (this.state !== 'closed') this.port.postMessage(message)
  }

  private fits(records: number): boolean {
    const buffered = this.reported + this.inFlightRecords
    return buffered === 0 || buffered + records <= this.maxBufferedRecords
  }

  private async waitForRoom(message: DataMessage<T>, records: number): Promise<void> {
    while (this.state !== 'closed' && !this.fits(records)) {
      this.room ??= new Deferred()
      await this.room.promise
    }
    return this.offer(message)
  }
}

/**
 * In a worker (worker executor): the host of an actor-source reader whose source's actor lives on the
 * coordinating thread ({@link BridgedSubtask}). Messages from there are offered to the reader in order
 * (one waiting for room holds back the next); answers go back by number; after any offer or poll the
 * reader's fill is reported once per turn of the event loop.
 *
 * @example
 * new ActorSourceReader(settings, new BridgedReaderHost('actor-source', port2), context, restored, owns)
 */
export class BridgedReaderHost<T> implements ActorReaderHost {
  private reader: ActorSourceReader<T> | undefined
  private readonly opening = new Deferred()
  private readonly closing = new Deferred()
  /** The offer still waiting for room, the later ones chained behind it. */
  private tail: Promise<void> | undefined
  private handled = 0
  private latest = 0
  private reporting = false

  constructor(
    readonly name: string,
    private readonly port: MessagePort,
  ) {}

  opened(reader: ActorSourceReader<unknown>): Promise<void> {
    this.reader = reader as ActorSourceReader<T>
    this.port.on('message', (message: ToReader<T>) => this.receive(message))
    this.port.on('close', () => {
      this.opening.resolve()
      this.closing.resolve()
    })
    this.port.unref()
    this.post({ t: 'open' })
    return this.opening.promise
  }

  closed(): Promise<void> {
    this.post({ t: 'close' })
    return this.closing.promise
  }

  /** The reader emitted records: report its room. */
  polled(): void {
    this.reportRoom()
  }

  private receive(message: ToReader<T>): void {
    const reader = this.reader!
    switch (message.t) {
      case 'opened':
        return this.opening.resolve()
      case 'closed':
        this.closing.resolve()
        return this.port.close()
      case 'offer': {
        const { seq, reply } = message
        this.latest = seq
        const data = reply === undefined ? message.message : { ...message.message, replyTo: this.replyTo(reply) }
        const take = (): void | Promise<void> => {
          const waiting = reader.offer(data)
          if (waiting === undefined) this.handledUpTo(seq)
          else return waiting.then(() => this.handledUpTo(seq))
        }
        if (this.tail !== undefined) this.tail = this.tail.then(take)
        else {
          const waiting = take()
          if (waiting !== undefined) this.tail = waiting
        }
        return
      }
      case 'refuse':
        return reader.refuse(message.record, message.id, this.replyTo(message.reply), message.reason)
      case 'complete':
        return reader.complete()
      case 'fail':
        return reader.fail(new ConnectorError(message.code, message.message))
    }
  }

  private handledUpTo(seq: number): void {
    this.handled = seq
    if (seq === this.latest) this.tail = undefined
    this.reportRoom()
  }

  private replyTo(reply: number | undefined): ActorRef<ActorSourceReply> | undefined {
    if (reply === undefined) return undefined
    return new CallbackRef<ActorSourceReply>(`/bridge/${this.name}/${reply}`, (answer) =>
      this.post({ t: 'reply', reply, answer }),
    )
  }

  private reportRoom(): void {
    if (this.reporting) return
    this.reporting = true
    setImmediate(() => {
      this.reporting = false
      this.post({ t: 'room', seq: this.handled, buffered: this.reader?.bufferedRecords ?? 0 })
    })
  }

  private post(message: FromReader): void {
    this.port.postMessage(message)
  }
}
