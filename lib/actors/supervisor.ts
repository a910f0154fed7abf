import { ActorError, messageOf } from '../errors.js'
import { backoffDelay } from '../util/backoff.js'
import type { ActorRestartStrategy, SupervisorStrategy } from './supervision.js'
import type { DeadLetterReason } from './system-events.js'

/** What to do with one failure, decided by a {@link Supervisor}. */
export type Directive =
  | { readonly kind: 'resume' }
  | { readonly kind: 'stop' }
  | { readonly kind: 'restart'; readonly delayMs: number }
  | { readonly kind: 'escalate'; readonly error: unknown }

type ConcreteStrategy = Exclude<SupervisorStrategy, { kind: 'decide' }>

const RESUME: Directive = { kind: 'resume' }
const STOP: Directive = { kind: 'stop' }
// A decider that returns another decider is allowed, but a cycle must not hang the actor.
const MAX_DECIDER_DEPTH = 8

/**
 * The per-actor side of a strategy: turns a failure into a directive and remembers the restarts that
 * count against `maxRestarts`. Internal; one per actor, living across restarts so the count survives.
 *
 * @example
 * const supervisor = new Supervisor(Supervision.restart({ maxRestarts: 1 }), '/user/a')
 * supervisor.decide(new Error('x')) // { kind: 'restart', delayMs: 0 }
 * supervisor.decide(new Error('x')) // { kind: 'escalate', error: ActorError ERR_RESTARTS_EXHAUSTED }
 */
export class Supervisor {
  // Times of recent restarts, for windowed limits; the counter serves unbounded windows without growing.
  private readonly restartTimes: number[] = []
  private restartCount = 0

  constructor(
    private readonly strategy: SupervisorStrategy,
    private readonly path: string,
    private readonly now: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
  ) {}

  decide(error: unknown): Directive {
    const strategy = this.resolve(error)
    if (strategy === undefined) return { kind: 'escalate', error }
    switch (strategy.kind) {
      case 'resume':
        return RESUME
      case 'stop':
        return STOP
      case 'escalate':
        return { kind: 'escalate', error }
      case 'restart':
        return this.restartOrGiveUp(strategy, error)
    }
  }

  private resolve(error: unknown): ConcreteStrategy | undefined {
    let strategy: SupervisorStrategy | undefined = this.strategy
    for (let depth = 0; strategy?.kind === 'decide'; depth++) {
      if (depth === MAX_DECIDER_DEPTH) return undefined
      try {
        strategy = strategy.decider(error)
      } catch {
        return undefined
      }
    }
    return isConcrete(strategy) ? strategy : undefined
  }

  private restartOrGiveUp(strategy: ActorRestartStrategy, error: unknown): Directive {
    const recent = this.recentRestarts(strategy.withinMs)
    if (recent >= strategy.maxRestarts) {
      const window = strategy.withinMs === Infinity ? '' : ` within ${strategy.withinMs} ms`
      const exhausted = new ActorError(
        'ERR_RESTARTS_EXHAUSTED',
        `actor ${this.path} failed after ${recent} restarts${window}: ${messageOf(error)}`,
        { cause: error },
      )
      return { kind: 'escalate', error: exhausted }
    }
    this.restartCount++
    if (strategy.withinMs !== Infinity) this.restartTimes.push(this.now())
    const delayMs = strategy.backoff === undefined ? 0 : backoffDelay(recent, strategy.backoff, this.random)
    return { kind: 'restart', delayMs }
  }

  private recentRestarts(withinMs: number): number {
    if (withinMs === Infinity) return this.restartCount
    const since = this.now() - withinMs
    let expired = 0
    while (expired < this.restartTimes.length && this.restartTimes[expired]! <= since) expired++
    if (expired > 0) this.restartTimes.splice(0, expired)
    return this.restartTimes.length
  }
}

function isConcrete(strategy: SupervisorStrategy | undefined): strategy is ConcreteStrategy {
  const kind = (strategy as { kind?: unknown } | undefined)?.kind
  return kind === 'resume' || kind === 'stop' || kind === 'escalate' || kind === 'restart'
}

/**
 * The dead-letter reason of a message whose handling failed, after what the supervisor did about it.
 *
 * @example
 * failedMessageReason({ kind: 'resume' }) // 'resumed-failure'
 */
export function failedMessageReason(directive: Directive): DeadLetterReason {
  return FAILED_MESSAGE_REASONS[directive.kind]
}

/**
 * The failure a parent takes on when a child escalates: ERR_ESCALATED, caused by the child's error.
 *
 * @example
 * escalatedError('/user/a/b', '/user/a', new Error('boom')).message
 * // 'actor /user/a/b escalated a failure to /user/a: boom'
 */
export function escalatedError(childPath: string, parentPath: string, error: unknown): ActorError {
  return new ActorError(
    'ERR_ESCALATED',
    `actor ${childPath} escalated a failure to ${parentPath}: ${messageOf(error)}`,
    {
      cause: error,
    },
  )
}

const FAILED_MESSAGE_REASONS: Record<Directive['kind'], DeadLetterReason> = {
  resume: 'resumed-failure',
  restart: 'restarted-failure',
  stop: 'stopped-failure',
  escalate: 'escalated-failure',
}
