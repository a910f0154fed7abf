/** A delay that can be cut short. */
export interface CuttableDelay {
  readonly done: Promise<void>
  /** Ends the delay now; harmless after it has ended. */
  cut(): void
}

/**
 * Waits at least `ms` by `performance.now()`. Node may fire a timer up to a millisecond early against
 * that clock, so the timer is re-armed until the time has really passed. Even a zero delay ends in a
 * later event-loop turn, so a restart loop (a factory that always throws) cannot monopolise the process.
 *
 * @example
 * const delay = waitAtLeast(100)
 * onStop(() => delay.cut())
 * await delay.done
 */
export function waitAtLeast(ms: number): CuttableDelay {
  const due = performance.now() + ms
  let timer: NodeJS.Timeout | undefined
  let immediate: NodeJS.Immediate | undefined
  let finish!: () => void
  const done = new Promise<void>((resolve) => {
    finish = () => {
      clearImmediate(immediate)
      clearTimeout(timer)
      resolve()
    }
  })
  const check = (): void => {
    const left = due - performance.now()
    if (left > 0) timer = setTimeout(check, Math.ceil(left))
    else finish()
  }
  immediate = setImmediate(check)
  return { done, cut: finish }
}
