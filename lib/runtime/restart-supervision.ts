import { Supervision, type SupervisorStrategy } from '../actors/supervision.js'
import { SluiceError, UserFunctionError, messageOf } from '../errors.js'
import { decideRestart, type RestartStrategy } from './restart-strategy.js'

/** Restarts a failing operator with the `restart` policy may cause within a minute, whatever the job strategy. */
const OPERATOR_RESTARTS_PER_MINUTE = 3
const OPERATOR_RESTART_WINDOW_MS = 60_000

/** What the job is told of each decision. */
export interface RestartListener {
  /** The job has ended meanwhile: nothing restarts. */
  stopped(): boolean
  restarting(cause: unknown, delayMs: number): void
  /** An operator with `onError: 'restart'` used up its budget: the job fails with `error`. */
  budgetUsedUp(error: SluiceError): void
}

/**
 * The job's restart strategy as the job master's supervisor: each failure of the job master (a
 * subtask's, escalated) restarts it after the strategy's delay, or stops it when the strategy allows
 * no more. A failure an operator asked to be restarted for (`onError: 'restart'`) restarts at once, a
 * few times a minute.
 *
 * @example
 * system.spawn(jobMasterBehavior(runtime), { name: 'job-master', supervision: restartSupervision(strategy, listener) })
 */
export function restartSupervision(strategy: RestartStrategy, listener: RestartListener): SupervisorStrategy {
  const failures: number[] = []
  const operatorRestarts: number[] = []
  return Supervision.decide((error) => {
    const cause = rootCause(error)
    const now = Date.now()
    let decision = decideRestart(strategy, [...failures, now])
    if (cause instanceof UserFunctionError && cause.restartRequested) {
      operatorRestarts.push(now)
      const recent = operatorRestarts.filter((t) => now - t < OPERATOR_RESTART_WINDOW_MS)
      if (recent.length <= OPERATOR_RESTARTS_PER_MINUTE) decision = { restart: true, delayMs: 0 }
      else if (!decision.restart) listener.budgetUsedUp(restartBudgetUsedUp(cause, recent.length - 1, now - recent[0]!))
    } else failures.push(now)
    if (!decision.restart || listener.stopped()) return Supervision.stop()
    listener.restarting(cause, decision.delayMs)
    return Supervision.restart({ backoff: { initialDelayMs: decision.delayMs, maxDelayMs: decision.delayMs } })
  })
}

/**
 * The error that started a chain of escalations.
 *
 * @example
 * rootCause(escalated) // the subtask's UserFunctionError
 */
export function rootCause(error: unknown): unknown {
  let e = error
  while (
    e instanceof SluiceError &&
    (e.code === 'ERR_ESCALATED' || e.code === 'ERR_RESTARTS_EXHAUSTED') &&
    e.cause !== undefined
  )
    e = e.cause
  return e
}

/**
 * The error a job fails with when an operator with `onError: 'restart'` keeps failing: it names the
 * budget used up, and the last failure is its cause.
 */
function restartBudgetUsedUp(cause: UserFunctionError, restarts: number, spanMs: number): SluiceError {
  return new SluiceError(
    'ERR_RESTART_BUDGET_EXHAUSTED',
    `operator ${cause.operator} (subtask ${cause.subtask}) has onError 'restart', but its restart budget is used up: ` +
      `${restarts} restarts in the last ${Math.round(spanMs)} ms (at most ${OPERATOR_RESTARTS_PER_MINUTE} per ` +
      `${OPERATOR_RESTART_WINDOW_MS / 1000} s, and the job's restart strategy allows no more); it failed again on record ${cause.record}: ${messageOf(cause.cause)}`,
    { cause },
  )
}
