import { ConfigError } from '../errors.js'
import { Supervision, type SupervisorStrategy } from './supervision.js'

/** Mailbox capacity when `mailboxCapacity` is not given. */
export const DEFAULT_MAILBOX_CAPACITY = 1024

/** How to spawn one actor. */
export interface SpawnOptions {
  /** Unique among the actor's siblings; the last segment of its path. No '/'. */
  readonly name: string
  /** Messages the mailbox holds before `tell` refuses; a whole number ≥ 1, default 1024. */
  readonly mailboxCapacity?: number
  /** What happens when the behavior fails; default `Supervision.escalate()`. */
  readonly supervision?: SupervisorStrategy
}

/** {@link SpawnOptions} with defaults applied. */
export interface ResolvedSpawnOptions {
  readonly name: string
  readonly mailboxCapacity: number
  readonly supervision: SupervisorStrategy
}

/**
 * Validates spawn options once, naming the bad option, and fills in the defaults.
 *
 * @example
 * resolveSpawnOptions({ name: 'a' }, new Set(), '/user') // { name: 'a', mailboxCapacity: 1024, supervision: escalate }
 * resolveSpawnOptions({ name: '' }, new Set(), '/user')  // throws ConfigError: invalid option name: "" ...
 */
export function resolveSpawnOptions(
  options: SpawnOptions,
  siblings: { has(name: string): boolean },
  parentPath: string,
): ResolvedSpawnOptions {
  const { name, mailboxCapacity = DEFAULT_MAILBOX_CAPACITY, supervision = Supervision.escalate() } = options
  if (typeof name !== 'string' || name.length === 0 || name.includes('/')) {
    throw new ConfigError('name', name, 'a non-empty string without "/"')
  }
  if (siblings.has(name)) throw new ConfigError('name', name, `a name no other child of ${parentPath} has`)
  if (!Number.isInteger(mailboxCapacity) || mailboxCapacity < 1) {
    throw new ConfigError('mailboxCapacity', mailboxCapacity, 'a whole number of at least 1')
  }
  return { name, mailboxCapacity, supervision }
}
