import type { MessagePort } from 'node:worker_threads'
import type { Subscription } from 'rxjs'
import type { ActorRef } from '../../actors/actor-ref.js'
import { ActorSystem } from '../../actors/actor-system.js'
import { BoundedMailbox } from '../../actors/mailbox.js'
import type { Behavior } from '../../actors/behavior.js'
import { ActorError, ConnectorError } from '../../errors.js'
import type { Logger } from '../../logging.js'
import type { Source, SourceReaderContext } from '../../runtime/source.js'
import type { ThreadBridged } from '../../runtime/thread-bridged.js'
import {
  actorSourceSettings,
  type ActorSourceMessage,
  type ActorSourceOptions,
  type ActorSourceReply,
  type ActorSourceSettings,
  type ActorSourceStateV1,
} from './options.js'
import {
  type ActorReaderHost,
  ActorSourceReader,
  type ActorSourceSubtask,
  malformedBatch,
  overflowError,
} from './reader.js'
import { BridgedReaderHost, BridgedSubtask } from './source-bridge.js'

/**
 * Records told to an actor (Bahir's AkkaSource), with backpressure by acknowledgement as Akka Streams'
 * `Source.actorRefWithBackpressure`: a message with `replyTo` is answered `ack` once its records are
 * taken; a sender that waits for each ack before the next message never overflows anything.
 * - ackMode 'received': `ack` once buffered. At-most-once: a crash loses what was buffered and not
 *   yet checkpointed downstream.
 * - ackMode 'checkpointed': `ack` only when the checkpoint covering the records completed. With an
 *   `id` on each message, a resend of a message a checkpoint holds is answered `duplicate` and not
 *   taken again (ids kept in checkpoints for `idempotencyWindowMs`): exactly-once for senders that
 *   resend until acknowledged.
 *
 * `source.ref` is the stable entry for senders: one actor per source (`/user/<actorName>` of the
 * system), spawned when the job's readers start and stopped when they all close; a restart spawns it
 * again behind the same `ref`. Messages with an `id` go to subtask hash(id) mod parallelism (so a
 * resend meets the subtask that remembers it), others round-robin. The actor takes one message at a
 * time, in order: a message whose subtask's buffer is full waits, and those behind it wait in the
 * mailbox (`mailboxCapacity`). A message that finds the mailbox full is answered `rejected` and is a
 * dead letter of the job (overflow 'reject'), or fails the source (overflow 'fail'). `complete` ends
 * the stream once the buffers are empty; `fail` fails the job. At parallelism 1 on one thread, the
 * subtask's polls also take the records waiting in the mailbox themselves, once its buffer is empty (the
 * same answers, in the same order), so a busy subtask's records cross one queue, not two.
 *
 * On the worker executor the actor stays on the coordinating thread (where `source.ref` is used) and
 * each subtask's reader, in a worker, is reached through a MessagePort with the same backpressure,
 * answers and exactly-once behaviour (values are structured-cloned); see {@link ThreadBridged}.
 *
 * @example
 * const source = actorSource<string>({ ackMode: 'checkpointed' })
 * env.fromSource(source, { uid: 'ingest' }).print()
 * const job = env.executeAsync()
 * const reply = await source.ref.ask<ActorSourceReply>((replyTo) => ({ type: 'record', value: 'hello', id: 'm-1', replyTo }), 5_000)
 */
export class ActorSource<T> implements Source<T, ActorSourceStateV1>, ThreadBridged {
  readonly name = 'actor-source'
  readonly bounded = false
  readonly restoredSplits = 'all'
  readonly settings: ActorSourceSettings
  readonly commitsOnCheckpoint: boolean
  readonly acknowledgesOnCheckpoint: boolean
  /** The stable ref senders tell: it forwards to the source's actor of the running job. */
  readonly ref: ActorRef<ActorSourceMessage<T>>
  /** Messages told while no job ran the source (answered `rejected`). */
  undelivered = 0
  private system: ActorSystem | undefined
  private actor: ActorRef<ActorSourceMessage<T>> | undefined
  private stopping: Promise<void> = Promise.resolve()
  private readers: Array<ActorSourceSubtask<T> | undefined> = []
  /** On the coordinating thread (worker executor): the stand-ins of the readers in workers, by subtask. */
  private readonly bridged: Array<BridgedSubtask<T> | undefined> = []
  /** In a worker: the ports to the coordinating thread, by subtask. */
  private readonly bridges: MessagePort[] = []
  private open = 0
  private next = 0
  private overflows: Subscription | undefined
  private log: Logger | undefined

  constructor(options?: ActorSourceOptions) {
    this.settings = actorSourceSettings(options)
    this.system = this.settings.system
    this.commitsOnCheckpoint = this.settings.ackMode === 'checkpointed'
    this.acknowledgesOnCheckpoint = this.settings.ackMode === 'checkpointed'
    this.ref = new ActorSourceRef(this, `/user/${this.settings.actorName}`)
  }

  /** The source's actor while a job runs it, else undefined. */
  get current(): ActorRef<ActorSourceMessage<T>> | undefined {
    return this.actor
  }

  /**
   * The reader of one subtask; restored splits hold the remembered message ids (each reader keeps the ids
   * it answers for, so a rescale keeps them too).
   *
   * @example
   * const reader = source.createReader({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
   */
  createReader(context: SourceReaderContext, restored: ActorSourceStateV1[] = []): ActorSourceReader<T> {
    this.log ??= context.logger
    const { subtask, parallelism } = context
    const owns = (id: string): boolean => subtaskOf(id, parallelism) === subtask
    const port = this.bridges[subtask]
    const host: ActorReaderHost =
      port !== undefined
        ? new BridgedReaderHost<T>(this.name, port)
        : {
            name: this.name,
            opened: (reader) => this.opened(reader as ActorSourceReader<T>, parallelism),
            closed: (reader) => this.closed(reader as ActorSourceReader<T>),
          }
    return new ActorSourceReader(this.settings, host, context, restored, owns)
  }

  /**
   * On the coordinating thread (worker executor): the reader of `subtask`, in a worker, is reached
   * through `port`; the stand-in of an earlier deployment's reader is closed first.
   *
   * @example
   * source.serveBridge(0, 2, port1)
   */
  serveBridge(subtask: number, parallelism: number, port: MessagePort): void {
    void this.bridged[subtask]?.close()
    this.bridged[subtask] = new BridgedSubtask<T>(subtask, this.settings.maxBufferedRecords, port, {
      opened: (s) => this.opened(s, parallelism),
      closed: (s) => this.closed(s),
      refuseUnrouted: (message, reason) => this.refuseUnrouted(message, reason),
    })
  }

  /**
   * In a worker: the reader of `subtask` takes its messages from the source's actor on the coordinating
   * thread, through `port`.
   *
   * @example
   * source.useBridge(0, port2)
   */
  useBridge(subtask: number, port: MessagePort): void {
    this.bridges[subtask] = port
  }

  private async opened(reader: ActorSourceSubtask<T>, parallelism: number): Promise<void> {
    if (this.readers.length !== parallelism) this.readers = new Array(parallelism).fill(undefined)
    this.readers[reader.subtask] = reader
    if (this.open++ > 0) return
    await this.stopping
    this.system ??= new ActorSystem({ name: this.settings.actorName })
    const system = this.system
    const mailbox = new BoundedMailbox<ActorSourceMessage<T>>(this.settings.mailboxCapacity)
    const actor = system.spawn<ActorSourceMessage<T>>(() => this.behavior(), { name: this.settings.actorName, mailbox })
    this.actor = actor
    // the only reader, on this thread, polls the mailbox too (one queue for most records); a reader in a
    // worker, or one of several (routing by id), gets each message from the actor
    if (parallelism === 1) reader.takeFrom?.(mailbox)
    this.overflows = system.deadLetters.subscribe(({ recipient, message, reason }) => {
      if (recipient === actor.path && reason === 'mailbox-full') this.overflowed(message as ActorSourceMessage<T>)
    })
  }

  private closed(reader: ActorSourceSubtask<T>): Promise<void> {
    if (this.readers[reader.subtask] === reader) this.readers[reader.subtask] = undefined
    if (--this.open > 0 || this.actor === undefined) return this.stopping
    const actor = this.actor
    this.actor = undefined
    // messages still in the mailbox are handled by the stopping actor: refused, with a reply
    this.stopping = actor.stop().finally(() => this.overflows?.unsubscribe())
    return this.stopping
  }

  private behavior(): Behavior<ActorSourceMessage<T>> {
    return {
      receive: (message) => {
        if (message.type === 'complete') for (const r of this.readers) r?.complete()
        else if (message.type === 'fail') {
          const cause = message.error
          const error = new ConnectorError('ERR_SOURCE_FAILED', `actor source told to fail: ${String(cause)}`, {
            cause,
          })
          for (const r of this.readers) r?.fail(error)
        } else return this.deliver(message)
      },
    }
  }

  private deliver(message: ActorSourceMessage<T>): void | Promise<void> {
    const reader = this.readerFor(message)
    if (reader === undefined) return this.refuseUnrouted(message, 'the source is not running')
    if (message.type === 'record') return reader.offer(message)
    if (message.type !== 'batch')
      return reader.refuse(message, undefined, replyToOf(message), 'not an actor source message')
    const reason = malformedBatch(message.values, message.timestamps)
    if (reason !== undefined) return reader.refuse(message.values, message.id, replyToOf(message), reason)
    return reader.offer(message)
  }

  private readerFor(message: ActorSourceMessage<T>): ActorSourceSubtask<T> | undefined {
    const n = this.readers.length
    // one subtask answers for every id and takes every message: no hash, no round-robin
    if (n <= 1) return this.readers[0]
    const id = 'id' in message ? message.id : undefined
    if (typeof id === 'string') return this.readers[subtaskOf(id, n)]
    for (let tries = 0; tries < n; tries++) {
      const reader = this.readers[this.next++ % n]
      if (reader !== undefined) return reader
    }
    return undefined
  }

  /** A message the mailbox had no room for. */
  private overflowed(message: ActorSourceMessage<T>): void {
    const path = this.actor?.path ?? this.ref.path
    if (this.settings.overflow === 'fail') {
      const error = overflowError(path, this.settings.mailboxCapacity)
      for (const r of this.readers) r?.fail(error)
      return
    }
    const reason = `mailbox full (${this.settings.mailboxCapacity} messages): wait for acks before sending more`
    const reader = this.readerFor(message)
    if (reader === undefined) return this.refuseUnrouted(message, reason)
    const record = message.type === 'record' ? [message.value] : message.type === 'batch' ? message.values : message
    reader.refuse(record, 'id' in message ? message.id : undefined, replyToOf(message), reason)
  }

  /** Refuses a message no reader can take; counted in `undelivered` and logged. */
  refuseUnrouted(message: unknown, reason: string): void {
    this.undelivered++
    const m = message as { id?: string; replyTo?: ActorRef<ActorSourceReply> }
    m?.replyTo?.tell?.({ type: 'rejected', id: m.id, reason })
    this.log?.warn('actor source refused a message', { source: this.ref.path, reason })
  }
}

/** The stable ref of an {@link ActorSource}: forwards to the source's actor of the running job. */
class ActorSourceRef<T> implements ActorRef<ActorSourceMessage<T>> {
  constructor(
    private readonly source: ActorSource<T>,
    readonly path: string,
  ) {}

  get mailboxSize(): number {
    return this.source.current?.mailboxSize ?? 0
  }

  get mailboxCapacity(): number {
    return this.source.settings.mailboxCapacity
  }

  get isAlive(): boolean {
    return this.source.current?.isAlive ?? false
  }

  get terminated(): Promise<void> {
    return this.source.current?.terminated ?? Promise.resolve()
  }

  tell(message: ActorSourceMessage<T>): boolean {
    const actor = this.source.current
    if (actor !== undefined) return actor.tell(message)
    this.source.refuseUnrouted(message, 'the source is not running')
    return false
  }

  ask<R>(build: (replyTo: ActorRef<R>) => ActorSourceMessage<T>, timeoutMs: number): Promise<R> {
    const actor = this.source.current
    if (actor !== undefined) return actor.ask(build, timeoutMs)
    this.source.undelivered++
    const error = new ActorError('ERR_ASK_UNDELIVERED', `ask to ${this.path}: the source is not running`, {
      retriable: true,
    })
    return Promise.reject(error)
  }

  /** Completes the stream (as a `complete` message); resolves once the source's actor stopped. */
  stop(): Promise<void> {
    const actor = this.source.current
    if (actor === undefined) return Promise.resolve()
    actor.tell({ type: 'complete' })
    return actor.terminated
  }
}

/** The subtask answering for a message id: FNV-1a of the id, modulo the parallelism. */
function subtaskOf(id: string, parallelism: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193)
  return (hash >>> 0) % parallelism
}

/** The message's `replyTo` when it is a ref (a malformed message may carry anything). */
function replyToOf(message: object): ActorRef<ActorSourceReply> | undefined {
  const replyTo = (message as { replyTo?: ActorRef<ActorSourceReply> }).replyTo
  return typeof replyTo?.tell === 'function' ? replyTo : undefined
}
