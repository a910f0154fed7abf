import { ConfigError } from '../../errors.js'
import { type SharedCount, sharedCount } from '../../runtime/workers/shared-counts.js'

/**
 * A concurrency limit shared by every operator (and job) given it: calls of the async functions that
 * use it never run more than `concurrency` at once in this process, whatever each operator's capacity
 * and on whichever thread they run. For a service that allows N connections in total. A call waiting
 * here counts as in flight for its operator (and for its timeout).
 *
 * Threading: the running calls are counted in shared memory that every thread of the process counts in
 * (the worker executor's workers replay the entry module and so build their own copy of the limiter;
 * the n-th limiter a worker makes takes the coordinator's n-th memory, see `sharedCount`): a call starts
 * once it raised the count below `concurrency` (compare-and-exchange), and a thread whose calls wait
 * sleeps on the count (`Atomics.waitAsync`) until a call ends anywhere. Calls of one thread start in the
 * order they came; threads get no order among themselves. What a worker's calls held when its thread
 * ended (a restart terminates it mid-call) is given back by the coordinator.
 *
 * Bounds: `activeCount` is the calls running on every thread, `pendingCount` those waiting on this one.
 */
export class SharedLimiter {
  private readonly count: SharedCount
  /** This thread's calls that wait for a turn, oldest first. */
  private readonly waiting: Array<() => void> = []
  private sleeping = false

  constructor(readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new ConfigError('sharedLimiter.concurrency', concurrency, 'a whole number of at least 1')
    this.count = sharedCount([concurrency], `sharedLimiter(${concurrency})`)
  }

  /** Runs `task` once fewer than `concurrency` tasks of this limiter run, on any thread. */
  run<T>(task: () => PromiseLike<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push(() => {
        let result: PromiseLike<T> | T
        try {
          result = task()
        } catch (error) {
          this.release()
          reject(error)
          return
        }
        Promise.resolve(result).then(
          (value) => {
            this.release()
            resolve(value)
          },
          (error: unknown) => {
            this.release()
            reject(error)
          },
        )
      })
      this.startWaiting()
    })
  }

  /** Tasks running now, on every thread of the process. */
  get activeCount(): number {
    return Atomics.load(this.count.slots, 0)
  }

  /** This thread's tasks waiting for a turn. */
  get pendingCount(): number {
    return this.waiting.length
  }

  /** Starts this thread's waiting tasks while the count has room; sleeps on it when some still wait. */
  private startWaiting(): void {
    while (this.waiting.length > 0 && this.acquire()) this.waiting.shift()!()
    if (this.waiting.length === 0 || this.sleeping) return
    const seen = Atomics.load(this.count.slots, 0)
    // a call ended since the last try: try again, after the calls just started had their turn
    if (seen < this.concurrency) {
      this.sleeping = true
      queueMicrotask(() => this.wake())
      return
    }
    const wait = Atomics.waitAsync(this.count.slots, 0, seen)
    this.sleeping = true
    if (wait.async) void wait.value.then(() => this.wake())
    else queueMicrotask(() => this.wake())
  }

  private wake(): void {
    this.sleeping = false
    this.startWaiting()
  }

  /** Takes one of the count, and records it as this thread's (no call between the two). */
  private acquire(): boolean {
    const { slots, held, index } = this.count
    for (let taken = Atomics.load(slots, 0); taken < this.concurrency; taken = Atomics.load(slots, 0))
      if (Atomics.compareExchange(slots, 0, taken, taken + 1) === taken) {
        Atomics.add(held, index, 1)
        return true
      }
    return false
  }

  private release(): void {
    const { slots, held, index } = this.count
    Atomics.sub(held, index, 1)
    Atomics.sub(slots, 0, 1)
    Atomics.notify(slots, 0)
    this.startWaiting()
  }
}

/**
 * A limit on concurrent calls shared by several async operators, and by the threads of the worker
 * executor: make it in the entry module before `execute()`, in the same order on every thread.
 *
 * @example
 * const geo = sharedLimiter(20)
 * orders.pipe(asyncMap(lookupCustomer, { limiter: geo }), asyncMap(lookupShop, { limiter: geo }))
 */
export function sharedLimiter(concurrency: number): SharedLimiter {
  return new SharedLimiter(concurrency)
}
