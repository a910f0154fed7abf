import { ConfigError } from '../errors.js'
import { optionsObject } from '../util/options.js'

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
  'exponential-backoff': ['kind', 'initialDelayMs', 'maxDelayMs', 'factor', 'jitter', 'maxAttempts'],
  'failure-rate': ['kind', 'maxFailures', 'intervalMs', 'delayMs'],
}

/**
 * Checks a restart strategy; the error names the field, and a field its kind does not have fails,
 * suggesting the closest one.
 *
 * @example
 * validateRestartStrategy({ kind: 'fixed-delay', attempts: 3, delayMs: 100 })
 */
export function validateRestartStrategy(strategy: RestartStrategy): void {
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
      need('initialDelayMs', strategy.initialDelayMs, 0)
      need('maxDelayMs', strategy.maxDelayMs, strategy.initialDelayMs)
      if (strategy.factor !== undefined) need('factor', strategy.factor, 1)
      if (strategy.jitter !== undefined && !(strategy.jitter >= 0 && strategy.jitter <= 1))
        throw new ConfigError('restartStrategy.jitter', strategy.jitter, 'a number from 0 to 1')
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
      const base = Math.min(strategy.maxDelayMs, strategy.initialDelayMs * (strategy.factor ?? 2) ** (failures - 1))
      const jitter = strategy.jitter ?? 0
      return { restart: true, delayMs: Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1)))) }
    }
    case 'failure-rate': {
      const now = failureTimes[failures - 1] ?? 0
      const recent = failureTimes.filter((t) => now - t < strategy.intervalMs).length
      return recent <= strategy.maxFailures ? { restart: true, delayMs: strategy.delayMs } : { restart: false }
    }
  }
}
