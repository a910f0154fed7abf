import type { ActorRef } from '../../actors/actor-ref.js'
import type { ActorSystem } from '../../actors/actor-system.js'
import { ConfigError } from '../../errors.js'
import type { IdempotencyStateV1 } from '../base/idempotency-keys.js'
import { finiteNumber, nonEmptyString, oneOf, optionKeys, optionsObject, wholeNumber } from '../../util/options.js'

/**
 * What the actor source answers a message with `replyTo`: `ack` once its records are taken (ackMode
 * 'received') or once a completed checkpoint holds them ('checkpointed'); `duplicate` for an `id` a
 * checkpoint already holds (the records are not taken again); `rejected` when the source refused them
 * (overflow 'reject', a malformed message, the source closing), with the reason.
 */
export type ActorSourceReply =
  | { readonly type: 'ack'; readonly id?: string; readonly records: number }
  | { readonly type: 'duplicate'; readonly id: string }
  | { readonly type: 'rejected'; readonly id?: string; readonly reason: string }

/**
 * What the actor source accepts (Bahir's AkkaSource took single values, iterables and (value, time)
 * pairs; here each is one envelope): a record, a batch (taken whole or not at all), the end of the
 * stream, or its failure. `id` makes a message idempotent in ackMode 'checkpointed': a resend after a
 * crash is answered `duplicate` when a checkpoint already holds it.
 *
 * @example
 * source.ref.tell({ type: 'record', value: { user: 'ada' }, timestamp: Date.now() })
 * await source.ref.ask<ActorSourceReply>((replyTo) => ({ type: 'batch', values: [1, 2, 3], id: 'b-17', replyTo }), 5_000)
 */
export type ActorSourceMessage<T> =
  | {
      readonly type: 'record'
      readonly value: T
      readonly timestamp?: number
      readonly id?: string
      readonly replyTo?: ActorRef<ActorSourceReply>
    }
  | {
      readonly type: 'batch'
      readonly values: readonly T[]
      /** Event times, one per value, when given. */
      readonly timestamps?: readonly number[]
      readonly id?: string
      readonly replyTo?: ActorRef<ActorSourceReply>
    }
  | { readonly type: 'complete' }
  | { readonly type: 'fail'; readonly error: unknown }

/** When a sender is answered: once its records are buffered, or once a completed checkpoint holds them. */
export type ActorAckMode = 'received' | 'checkpointed'

/**
 * What a message that finds the source's mailbox full does: `'reject'` answers it `rejected` (it also
 * becomes a dead letter of the job, counted and logged); `'fail'` fails the source, as Akka Streams'
 * `actorRefWithBackpressure` does for a sender that does not wait for its acks.
 */
export type ActorOverflow = 'reject' | 'fail'

/** Options of {@link ActorSource} (Bahir's AkkaSource, with acknowledgement backpressure and checkpointed acks). */
export interface ActorSourceOptions {
  /** The system the source's actors live in (paths `/user/<actorName>-<subtask>`). Default: one of the source's own. */
  system?: ActorSystem
  /** The actors' name prefix. Default 'actor-source'. */
  actorName?: string
  /** Default 'received'. */
  ackMode?: ActorAckMode
  /** Records taken and not yet emitted, per subtask; past it messages wait in the mailbox. Default 1024. */
  maxBufferedRecords?: number
  /** Messages waiting in each subtask actor's mailbox for room. Default 1024. */
  mailboxCapacity?: number
  /** Default 'reject'. */
  overflow?: ActorOverflow
  /** How long a message id is remembered (in checkpoints too) after a checkpoint covered it. Default 600 000 ms. */
  idempotencyWindowMs?: number
}

/** The validated source options, defaults applied. */
export interface ActorSourceSettings {
  readonly system: ActorSystem | undefined
  readonly actorName: string
  readonly ackMode: ActorAckMode
  readonly maxBufferedRecords: number
  readonly mailboxCapacity: number
  readonly overflow: ActorOverflow
  readonly idempotencyWindowMs: number
}

/** The actor source's checkpointed state: the message ids whose records the checkpoint holds. */
export type ActorSourceStateV1 = IdempotencyStateV1

/**
 * What the actor sink sends its target (Akka Streams' `Sink.actorRefWithBackpressure` protocol): `init`
 * first, then one `record` per value; the target answers each `init` and `record` by telling
 * `{ type: 'ack' }` to its `replyTo`, in order. `complete` follows the last record of a bounded input;
 * `failure` tells the target the job failed or was cancelled.
 */
export type ActorSinkMessage<T> =
  | { readonly type: 'init'; readonly replyTo: ActorRef<ActorSinkAck> }
  | {
      readonly type: 'record'
      readonly value: T
      readonly timestamp?: number
      readonly replyTo: ActorRef<ActorSinkAck>
    }
  | { readonly type: 'complete' }
  | { readonly type: 'failure'; readonly reason: string }

/** The target's answer to `init` and to each `record`. */
export interface ActorSinkAck {
  readonly type: 'ack'
}

/** Options of {@link ActorSink}. */
export interface ActorSinkOptions<T> {
  /** Who receives the records. */
  target: ActorRef<ActorSinkMessage<T>>
  /** Records sent and not yet acknowledged, per subtask: `ready()` waits past it. Default 16. */
  maxUnacknowledged?: number
  /** A record (or `init`) unacknowledged this long fails the sink. Default 30 000 ms. */
  ackTimeoutMs?: number
}

/** The validated sink options, defaults applied. */
export interface ActorSinkSettings<T> {
  readonly target: ActorRef<ActorSinkMessage<T>>
  readonly maxUnacknowledged: number
  readonly ackTimeoutMs: number
}

const SOURCE_OPTIONS = optionKeys<ActorSourceOptions>({
  system: true,
  actorName: true,
  ackMode: true,
  maxBufferedRecords: true,
  mailboxCapacity: true,
  overflow: true,
  idempotencyWindowMs: true,
})

const SINK_OPTIONS = optionKeys<ActorSinkOptions<unknown>>({
  target: true,
  maxUnacknowledged: true,
  ackTimeoutMs: true,
})

/**
 * Validates {@link ActorSourceOptions}; a bad option is a ConfigError naming `actorSource.<option>`.
 *
 * @example
 * actorSourceSettings({ ackMode: 'checkpointed' }).maxBufferedRecords // 1024
 */
export function actorSourceSettings(options: ActorSourceOptions | undefined): ActorSourceSettings {
  const o = optionsObject('actorSource', options, SOURCE_OPTIONS)
  const p = (name: string): string => `actorSource.${name}`
  if (o.system !== undefined && (typeof o.system !== 'object' || typeof o.system.spawn !== 'function'))
    throw new ConfigError(p('system'), o.system, 'an ActorSystem')
  const actorName = nonEmptyString(p('actorName'), o.actorName, 'actor-source')
  if (actorName.includes('/')) throw new ConfigError(p('actorName'), actorName, "a name without '/'")
  return {
    system: o.system,
    actorName,
    ackMode: oneOf(p('ackMode'), o.ackMode, ['received', 'checkpointed'], 'received'),
    maxBufferedRecords: wholeNumber(p('maxBufferedRecords'), o.maxBufferedRecords, 1024, 1),
    mailboxCapacity: wholeNumber(p('mailboxCapacity'), o.mailboxCapacity, 1024, 1),
    overflow: oneOf(p('overflow'), o.overflow, ['reject', 'fail'], 'reject'),
    idempotencyWindowMs: finiteNumber(p('idempotencyWindowMs'), o.idempotencyWindowMs, 600_000, 0),
  }
}

/**
 * Validates {@link ActorSinkOptions}; a bad option is a ConfigError naming `actorSink.<option>`.
 *
 * @example
 * actorSinkSettings({ target: collector }).maxUnacknowledged // 16
 */
export function actorSinkSettings<T>(options: ActorSinkOptions<T> | undefined): ActorSinkSettings<T> {
  const o = optionsObject('actorSink', options, SINK_OPTIONS)
  const target = o.target as Partial<ActorRef<ActorSinkMessage<T>>> | undefined
  if (target === null || typeof target !== 'object' || typeof target.tell !== 'function')
    throw new ConfigError('actorSink.target', target, 'an ActorRef')
  return {
    target: target as ActorRef<ActorSinkMessage<T>>,
    maxUnacknowledged: wholeNumber('actorSink.maxUnacknowledged', o.maxUnacknowledged, 16, 1),
    ackTimeoutMs: wholeNumber('actorSink.ackTimeoutMs', o.ackTimeoutMs, 30_000, 1),
  }
}
