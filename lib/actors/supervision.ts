import { ConfigError } from '../errors.js'
import { type BackoffOptions, validateBackoff } from '../util/backoff.js'
import { readDeprecated } from '../util/deprecated-options.js'

/** Keep the actor and its state; the failing message becomes a dead letter ('resumed-failure'). */
export interface ResumeStrategy {
  readonly kind: 'resume'
}

/**
 * Recreate the behavior from its factory, after an optional backoff, up to a limit. (A job's restarts
 * are `RestartStrategy` in the `sluice` entry.)
 */
export interface ActorRestartStrategy {
  readonly kind: 'restart'
  readonly maxRestarts: number
  readonly withinMs: number
  readonly backoff: BackoffOptions | undefined
}

/** Stop the actor; a top-level actor's failure is published on `system.failures`. */
export interface StopStrategy {
  readonly kind: 'stop'
}

/** Stop the actor and fail its parent with ERR_ESCALATED; the parent's own strategy then applies. */
export interface EscalateStrategy {
  readonly kind: 'escalate'
}

/** Choose one of the other strategies per error. */
export interface DecideStrategy {
  readonly kind: 'decide'
  readonly decider: (error: unknown) => SupervisorStrategy
}

/** What an actor's supervisor does when its behavior throws or rejects. Build one with {@link Supervision}. */
export type SupervisorStrategy =
  | ResumeStrategy
  | ActorRestartStrategy
  | StopStrategy
  | EscalateStrategy
  | DecideStrategy

/** @deprecated Use {@link ActorRestartStrategy}: `RestartStrategy` names the job's restart strategy. */
export type RestartStrategy = ActorRestartStrategy

/** Options of {@link Supervision.restart}. */
export interface RestartOptions {
  /** Restarts allowed within `withinMs`; one more failure stops the actor and escalates. Default Infinity. */
  readonly maxRestarts?: number
  /** Sliding window in which restarts are counted; default Infinity (all restarts count). */
  readonly withinMs?: number
  /**
   * Delay before each restart; attempt n is the number of restarts already in the window. Default none.
   * The names `minMs`, `maxMs` and `factor` are deprecated (read as `initialDelayMs`, `maxDelayMs`,
   * `multiplier`, with a warning) and go in the next release.
   */
  readonly backoff?: BackoffOptions | DeprecatedBackoffOptions
}

/** @deprecated The backoff names of the release before; use {@link BackoffOptions}. */
export interface DeprecatedBackoffOptions {
  /** @deprecated use `initialDelayMs` */
  readonly minMs: number
  /** @deprecated use `maxDelayMs` */
  readonly maxMs: number
  /** @deprecated use `multiplier` */
  readonly factor?: number
  readonly jitter?: number
}

/** The backoff names of the release before, each with its replacement. */
const OLD_BACKOFF_NAMES = { minMs: 'initialDelayMs', maxMs: 'maxDelayMs', factor: 'multiplier' }

const RESUME: ResumeStrategy = Object.freeze({ kind: 'resume' })
const STOP: StopStrategy = Object.freeze({ kind: 'stop' })
const ESCALATE: EscalateStrategy = Object.freeze({ kind: 'escalate' })

/**
 * Builders of supervisor strategies, declared at spawn time instead of coded into handlers (Akka typed).
 * The default, when `supervision` is not given, is `escalate`, as Flink fails the job by default.
 *
 * @example
 * system.spawn(counter, {
 *   name: 'counter',
 *   supervision: Supervision.decide((e) => e instanceof DecodeError
 *     ? Supervision.resume()
 *     : Supervision.restart({ maxRestarts: 3, withinMs: 60_000, backoff: { initialDelayMs: 100, maxDelayMs: 5_000 } })),
 * })
 */
export const Supervision = {
  /**
   * Drop the failing message to dead letters with reason 'resumed-failure' and keep the state.
   *
   * @example
   * system.spawn(parser, { name: 'parser', supervision: Supervision.resume() })
   */
  resume(): SupervisorStrategy {
    return RESUME
  },

  /**
   * Call `preRestart`, stop the children, wait the backoff, then call the factory again for fresh state.
   * Messages arriving meanwhile wait in the mailbox. The failure after `maxRestarts` restarts within
   * `withinMs` stops the actor and escalates ERR_RESTARTS_EXHAUSTED to the parent.
   *
   * @example
   * Supervision.restart({ maxRestarts: 5, withinMs: 10_000, backoff: { initialDelayMs: 50, maxDelayMs: 2_000, jitter: 0.2 } })
   */
  restart(options: RestartOptions = {}): SupervisorStrategy {
    const { maxRestarts = Infinity, withinMs = Infinity, backoff } = options
    if (!(maxRestarts === Infinity || (Number.isInteger(maxRestarts) && maxRestarts >= 0))) {
      throw new ConfigError('maxRestarts', maxRestarts, 'a whole number ≥ 0 or Infinity')
    }
    if (!(withinMs > 0)) throw new ConfigError('withinMs', withinMs, 'a number of milliseconds > 0, or Infinity')
    const delays =
      backoff === undefined
        ? undefined
        : readDeprecated('backoff', backoff, OLD_BACKOFF_NAMES, (b) => validateBackoff('backoff', b as BackoffOptions))
    return Object.freeze({ kind: 'restart', maxRestarts, withinMs, backoff: delays })
  },

  /**
   * Stop the actor; its remaining messages become dead letters ('stopped').
   *
   * @example
   * system.spawn(session, { name: 'session-42', supervision: Supervision.stop() })
   */
  stop(): SupervisorStrategy {
    return STOP
  },

  /**
   * Stop the actor and make its parent fail with ActorError ERR_ESCALATED (cause: the error). At top
   * level the failure is published on `system.failures`. This is the default.
   *
   * @example
   * ctx.spawn(worker, { name: 'worker', supervision: Supervision.escalate() })
   */
  escalate(): SupervisorStrategy {
    return ESCALATE
  },

  /**
   * Choose a strategy per error. A decider that throws, or returns no strategy, escalates the failure.
   *
   * @example
   * Supervision.decide((e) => (e as SluiceError).retriable ? Supervision.restart() : Supervision.stop())
   */
  decide(decider: (error: unknown) => SupervisorStrategy): SupervisorStrategy {
    return Object.freeze({ kind: 'decide', decider })
  },
} as const
