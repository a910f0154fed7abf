import type { MessagePort } from 'node:worker_threads'
import type { ActorRef } from '../../actors/actor-ref.js'
import { ConnectorError } from '../../errors.js'
import { Deferred } from '../../util/deferred.js'
import { CallbackRef } from './callback-ref.js'
import type { ActorSinkAck, ActorSinkMessage } from './options.js'

/** From a worker's actor-sink writer to the coordinating thread: a message for the target, its `replyTo` left out. */
interface ToTarget<T> {
  readonly message: ActorSinkMessage<T>
}

/** From the coordinating thread to the writer: an ack, a message the target refused, the target's end. */
type FromTarget = { readonly t: 'ack' } | { readonly t: 'refused'; readonly why: string } | { readonly t: 'terminated' }

/**
 * On the coordinating thread: tells the target what the writer of `subtask`, in a worker, sends through
 * `port`, with a `replyTo` that posts the target's acks back; a refused message and the target's
 * termination are posted too.
 *
 * @example
 * serveTarget(settings.target, 0, port1)
 */
export function serveTarget<T>(target: ActorRef<ActorSinkMessage<T>>, subtask: number, port: MessagePort): void {
  const post = (message: FromTarget): void => port.postMessage(message)
  const acks = new CallbackRef<ActorSinkAck>(`${target.path}/acks-${subtask}`, () => post({ t: 'ack' }))
  port.on('message', ({ message }: ToTarget<T>) => {
    const told = message.type === 'init' || message.type === 'record' ? { ...message, replyTo: acks } : message
    if (!target.tell(told))
      post({ t: 'refused', why: target.isAlive ? 'refused it: its mailbox is full' : 'has terminated' })
  })
  port.unref()
  void target.terminated.then(() => post({ t: 'terminated' }))
}

/**
 * In a worker: the actor sink's target as its writer sees it, a stand-in that posts each message to the
 * coordinating thread, where the real target lives ({@link serveTarget}). `tell` cannot know at once
 * whether the target took the message: a refusal comes later, to `onRefused`.
 *
 * @example
 * const target = new BridgedTarget<string>('/user/audit', port2, (why) => writer.undelivered(why))
 */
export class BridgedTarget<T> implements ActorRef<ActorSinkMessage<T>> {
  readonly mailboxSize = 0
  readonly mailboxCapacity = 1
  isAlive = true
  private readonly ended = new Deferred()
  private acks: ActorRef<ActorSinkAck> | undefined

  constructor(
    readonly path: string,
    private readonly port: MessagePort,
    onRefused: (why: string) => void,
  ) {
    port.on('message', (message: FromTarget) => {
      if (message.t === 'ack') this.acks?.tell({ type: 'ack' })
      else if (message.t === 'refused') onRefused(message.why)
      else {
        this.isAlive = false
        this.ended.resolve()
      }
    })
    port.unref()
  }

  get terminated(): Promise<void> {
    return this.ended.promise
  }

  /** Posts the message (its `value` structured-cloned); false once the target is known to have terminated. */
  tell(message: ActorSinkMessage<T>): boolean {
    if (!this.isAlive) return false
    let posted: ActorSinkMessage<T> = message
    if (message.type === 'init' || message.type === 'record') {
      this.acks = message.replyTo
      const { replyTo: _, ...rest } = message
      posted = rest as ActorSinkMessage<T>
    }
    const envelope: ToTarget<T> = { message: posted }
    this.port.postMessage(envelope)
    return true
  }

  ask<R>(): Promise<R> {
    return Promise.reject(new ConnectorError('ERR_UNSUPPORTED', `${this.path}: ask is not bridged to workers`))
  }

  stop(): Promise<void> {
    return Promise.resolve()
  }
}
