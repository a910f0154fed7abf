import { hostedJobStarted } from '../../lib/runtime/workers/worker-thread.js'
import { replayedTest } from './worker-pass/pass-context.js'

/**
 * What every timeout of this module adds on the worker executor (`SLUICE_EXECUTOR=workers`, the
 * worker-executor test pass): a job there first starts its worker threads, each loading the spec file
 * again (about a second each on a quiet machine, several on a loaded one). A timeout is only the bound
 * of a wait for an event, so a passing test is not slowed by it.
 */
const WORKER_START_ALLOWANCE_MS = process.env.SLUICE_EXECUTOR === 'workers' ? 15_000 : 0
const REPLAYING = replayedTest() !== undefined

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long; default 2000 ms (plus 15 s on the worker executor). */
  readonly timeoutMs?: number
  /** Poll this often; default 2 ms. */
  readonly intervalMs?: number
  /** Said in the timeout error, so a failing test names what it waited for; a function is called then, to report the state at the timeout. */
  readonly description?: string | (() => string)
}

/**
 * Resolves as soon as `predicate` returns true (polled every `intervalMs`), rejects when `timeoutMs`
 * passes first. In a worker of the worker-executor test pass that replays the test it resolves at once
 * until the job the worker hosts has started: the coordinator saw the condition before it started that
 * job. Tests wait for conditions with this, never with bare sleeps: a sleep is either too short
 * (flaky) or too long (slow).
 *
 * @example
 * await waitFor(() => received.length === 3, { description: '3 messages received' })
 */
export async function waitFor(predicate: () => boolean, options: WaitForOptions = {}): Promise<void> {
  // a worker replaying a test up to the job it hosts: the coordinator's run of the test has seen the
  // condition already (it started that job after), and what it watches may be memory only it has; from
  // the hosted job on (a wait in the job's own functions), it waits
  if (REPLAYING && !hostedJobStarted()) return
  const { intervalMs = 2, description = predicate.toString() } = options
  const timeoutMs = (options.timeoutMs ?? 2000) + WORKER_START_ALLOWANCE_MS
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() >= deadline)
      throw new Error(
        `waitFor: not true within ${timeoutMs} ms: ${typeof description === 'function' ? description() : description}`,
      )
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * Resolves with `promise`, or rejects if it has not settled within `timeoutMs` (default 2000; plus 15 s on
 * the worker executor). Use it on
 * promises a bug could leave pending forever (`ref.terminated`, `system.terminate()`): without a pending
 * timer, Node would exit silently mid-test instead of reporting a failure.
 *
 * @example
 * await settlesWithin(ref.terminated, { description: 'actor stopped after the failure' })
 */
export async function settlesWithin<T>(
  promise: Promise<T>,
  options: { readonly timeoutMs?: number; readonly description?: string } = {},
): Promise<T> {
  const { description = 'promise settled' } = options
  const timeoutMs = (options.timeoutMs ?? 2000) + WORKER_START_ALLOWANCE_MS
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`settlesWithin: not settled within ${timeoutMs} ms: ${description}`)),
      timeoutMs,
    )
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}
