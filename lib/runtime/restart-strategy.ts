import { ConfigError } from '../errors.js'
import { optionsObject } from '../util/options.js'
import { backoffDelay, validateBackoff } from '../util/backoff.js'
import { readDeprecated } from '../util/deprecated-options.js'

/**
 * What a failed job does (Flink's restart strategies). Every restart restores the latest complete
 * checkpoint, or starts over when there is none.
 */
export type RestartStrategy =
  | { kind: 'none' }
  | { kind: 'fixed-delay'; attempts: number; delayMs: number }
  | {
      kind: 'exponential-backoff'
      initialDelayMs: number
      maxDelayMs: number
      /** Growth per restart; default 2. */
      multiplier?: number
      /** @deprecated use `multiplier` (read as it, with a warning, for this release) */
      factor?: number
      jitter?: number
      maxAttempts?: number
    }
  | { kind: 'failure-rate'; maxFailures: number; intervalMs: number; delayMs: number }

/** What to do about one failure: give up, or restart after a delay. */
export type RestartDecision = { restart: false } | { restart: true; delayMs: number }

/** The fields of each kind of restart strategy. */
const STRATEGY_FIELDS: Readonly<Record<RestartStrategy['kind'], readonly string[]>> = {
  none: ['kind'],
  'fixed-delay': ['kind', 'attempts', 'delayMs'],
  'exponential-backoff': ['kind', 'initialDelayMs', 'maxDelayMs', 'multiplier', 'jitter', 'maxAttempts'],
  'failure-rate': ['kind', 'maxFailures', 'intervalMs', 'delayMs'],
}

/**
 * Checks a restart strategy and returns it with deprecated names replaced; the error names the field,
 * and a field its kind does not have fails, suggesting the closest one.
 *
 * @example
 * validateRestartStrategy({ kind: 'fixed-delay', attempts: 3, delayMs: 100 })
 */
export function validateRestartStrategy(strategy: RestartStrategy): RestartStrategy {
  return readDeprecated('restartStrategy', strategy, { factor: 'multiplier' }, (s) => {
    checkRestartStrategy(s)
    return s
  })
}

function checkRestartStrategy(strategy: RestartStrategy): void {
  const need = (field: string, value: unknown, min: number): void => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new ConfigError(`restartStrategy.${field}`, value, `a number of at least ${min}`)
    }
  }
  const fields = STRATEGY_FIELDS[strategy?.kind]
  if (fields !== undefined && Object.hasOwn(STRATEGY_FIELDS, strategy.kind))
    optionsObject('restartStrategy', strategy, fields)
  switch (strategy?.kind) {
    case 'none':
      return
    case 'fixed-delay':
      need('attempts', strategy.attempts, 0)
      need('delayMs', strategy.delayMs, 0)
      return
    case 'exponential-backoff':
      validateBackoff('restartStrategy', strategy)
      if (strategy.maxAttempts !== undefined) need('maxAttempts', strategy.maxAttempts, 0)
      return
    case 'failure-rate':
      need('maxFailures', strategy.maxFailures, 0)
      need('intervalMs', strategy.intervalMs, 1)
      need('delayMs', strategy.delayMs, 0)
      return
    default:
      throw new ConfigError(
        'restartStrategy.kind',
        (strategy as { kind?: unknown })?.kind,
        "'none' | 'fixed-delay' | 'exponential-backoff' | 'failure-rate'",
      )
  }
}

/**
 * Decides, from the times of the failures so far (the newest last), whether to restart and after
 * how long. Pure, so the backoff math has its own test.
 *
 * @example
 * decideRestart({ kind: 'fixed-delay', attempts: 2, delayMs: 50 }, [t1]) // { restart: true, delayMs: 50 }
 */
export function decideRestart(
  strategy: RestartStrategy,
  failureTimes: readonly number[],
  random: () => number = Math.random,
): RestartDecision {
  const failures = failureTimes.length
  switch (strategy.kind) {
    case 'none':
      return { restart: false }
    case 'fixed-delay':
      return failures <= strategy.attempts ? { restart: true, delayMs: strategy.delayMs } : { restart: false }
    case 'exponential-backoff': {
      if (strategy.maxAttempts !== undefined && failures > strategy.maxAttempts) return { restart: false }
      return { restart: true, delayMs: Math.round(backoffDelay(failures - 1, strategy, random)) }
    }
    case 'failure-rate': {
      const now = failureTimes[failures - 1] ?? 0
      const recent = failureTimes.filter((t) => now - t < strategy.intervalMs).length
      return recent <= strategy.maxFailures ? { restart: true, delayMs: strategy.delayMs } : { restart: false }
    }
  }
}
