import { ConfigError } from '../errors.js'
import { BoundedMailbox } from './mailbox.js'
import { Supervision, type SupervisorStrategy } from './supervision.js'

/** Mailbox capacity when `mailboxCapacity` is not given. */
export const DEFAULT_MAILBOX_CAPACITY = 1024

/** How to spawn one actor (`M`: its messages). */
export interface SpawnOptions<M = unknown> {
  /** Unique among the actor's siblings; the last segment of its path. No '/'. */
  readonly name: string
  /** Messages the mailbox holds before `tell` refuses; a whole number ≥ 1, default 1024. */
  readonly mailboxCapacity?: number
  /**
   * The actor's mailbox, made by the caller, who may also take messages out of it in its own turns (a
   * stream stage handling its actor's messages where it runs, as Akka Streams' stage actors do); the
   * actor handles those left. Its capacity is the actor's (`mailboxCapacity`, if given, must equal it).
   */
  readonly mailbox?: BoundedMailbox<M>
  /** What happens when the behavior fails; default `Supervision.escalate()`. */
  readonly supervision?: SupervisorStrategy
}

/** {@link SpawnOptions} with defaults applied. */
export interface ResolvedSpawnOptions<M = unknown> {
  readonly name: string
  readonly mailboxCapacity: number
  readonly mailbox: BoundedMailbox<M> | undefined
  readonly supervision: SupervisorStrategy
}

/**
 * Validates spawn options once, naming the bad option, and fills in the defaults.
 *
 * @example
 * resolveSpawnOptions({ name: 'a' }, new Set(), '/user') // { name: 'a', mailboxCapacity: 1024, supervision: escalate }
 * resolveSpawnOptions({ name: '' }, new Set(), '/user')  // throws ConfigError: invalid option name: "" ...
 */
export function resolveSpawnOptions<M>(
  options: SpawnOptions<M>,
  siblings: { has(name: string): boolean },
  parentPath: string,
): ResolvedSpawnOptions<M> {
  const { name, mailbox, supervision = Supervision.escalate() } = options
  if (mailbox !== undefined && !(mailbox instanceof BoundedMailbox))
    throw new ConfigError('mailbox', mailbox, 'a BoundedMailbox')
  const mailboxCapacity = options.mailboxCapacity ?? mailbox?.capacity ?? DEFAULT_MAILBOX_CAPACITY
  if (mailbox !== undefined && mailboxCapacity !== mailbox.capacity)
    throw new ConfigError('mailboxCapacity', mailboxCapacity, `the given mailbox's capacity (${mailbox.capacity})`)
  if (typeof name !== 'string' || name.length === 0 || name.includes('/')) {
    throw new ConfigError('name', name, 'a non-empty string without "/"')
  }
  if (siblings.has(name)) throw new ConfigError('name', name, `a name no other child of ${parentPath} has`)
  if (!Number.isInteger(mailboxCapacity) || mailboxCapacity < 1) {
    throw new ConfigError('mailboxCapacity', mailboxCapacity, 'a whole number of at least 1')
  }
  return { name, mailboxCapacity, mailbox, supervision }
}
