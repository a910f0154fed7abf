import { ConfigError } from '../errors.js'
import { RingBuffer } from './ring-buffer.js'

/** Something the dispatcher can give a turn to: an actor with messages. */
export interface Runnable {
  /**
   * Handles up to `budget` messages, and none after `deadline` (a `performance.now()` time) has passed.
   * Returns true to stay in the run queue (more messages are ready), false when it has nothing runnable
   * left; it then schedules itself again when that changes.
   */
  runTurn(budget: number, deadline: number): boolean
}

/**
 * Dispatchers whose drain was requested, in request order, one entry per queued callback: the callbacks
 * are these two module functions, the same for every dispatcher, so V8's optimized code that calls them
 * does not hold one dispatcher's closure (a per-dispatcher `drain` closure was inlined into node's
 * microtask and immediate runners, whose code was then thrown away with each actor system that died).
 */
const microtaskDrains = new RingBuffer<Dispatcher>()
const immediateDrains = new RingBuffer<Dispatcher>()
const drainNextMicrotask = (): void => microtaskDrains.shift()!.drain()
const drainNextImmediate = (): void => immediateDrains.shift()!.drain()

/** Options of a {@link Dispatcher}. */
export interface DispatcherOptions {
  /** Messages one actor handles per turn before the next actor gets one; default 64. */
  readonly throughput?: number
  /** Continuous work, in ms, after which the dispatcher yields to the event loop; default 4. */
  readonly timeSliceMs?: number
  /**
   * Ends the time slice early while it returns true, checked where the clock is read: for work that
   * waits in the event loop and must not wait out the slice (a worker's queryable-state lookups).
   */
  readonly yieldRequested?: () => boolean
}

/**
 * One shared run queue for all actors of a system. An actor with messages is enqueued once, however many
 * messages it has; the drain loop gives actors turns round-robin, `throughput` messages each, so one busy
 * actor cannot starve the others. Draining starts in a microtask (low latency after a `tell`), and after
 * `timeSliceMs` of continuous work continues from `setImmediate`, so timers and sockets still run
 * while actors are busy. A microtask per actor would do neither: microtasks never yield to I/O.
 *
 * @example
 * const dispatcher = new Dispatcher({ throughput: 64, timeSliceMs: 4 })
 * dispatcher.schedule(actor) // actor.runTurn(64) runs soon, again while it returns true
 */
export class Dispatcher {
  readonly throughput: number
  readonly timeSliceMs: number
  private readonly yieldRequested: (() => boolean) | undefined
  private readonly runQueue = new RingBuffer<Runnable>()
  // True from the moment a drain is requested until it starts; keeps one drain pending at a time.
  private drainPending = false
  private draining = false

  constructor(options: DispatcherOptions = {}) {
    const { throughput = 64, timeSliceMs = 4, yieldRequested } = options
    if (!Number.isInteger(throughput) || throughput < 1) {
      throw new ConfigError('throughput', throughput, 'a whole number of at least 1')
    }
    if (!Number.isFinite(timeSliceMs) || timeSliceMs < 0) {
      throw new ConfigError('timeSliceMs', timeSliceMs, 'a finite number of milliseconds ≥ 0')
    }
    if (yieldRequested !== undefined && typeof yieldRequested !== 'function') {
      throw new ConfigError('yieldRequested', yieldRequested, 'a function that returns a boolean')
    }
    this.throughput = throughput
    this.timeSliceMs = timeSliceMs
    this.yieldRequested = yieldRequested
  }

  /**
   * Whether the slice that ends at `deadline` is over: its time is used, or a yield was requested.
   *
   * @example
   * if ((handled & 7) === 7 && dispatcher.sliceOver(deadline)) break
   */
  sliceOver(deadline: number): boolean {
    return performance.now() >= deadline || this.yieldRequested?.() === true
  }

  /**
   * Puts a runnable at the back of the run queue. The caller guarantees it is not already queued.
   *
   * @example
   * if (!this.scheduled) { this.scheduled = true; dispatcher.schedule(this) }
   */
  schedule(runnable: Runnable): void {
    this.runQueue.push(runnable)
    if (!this.draining && !this.drainPending) {
      this.drainPending = true
      microtaskDrains.push(this)
      queueMicrotask(drainNextMicrotask)
    }
  }

  /** Runs actors' turns until the run queue is empty or the time slice is used. Internal: the module's drain callbacks call it. */
  drain(): void {
    this.drainPending = false
    this.draining = true
    const queue = this.runQueue
    const deadline = performance.now() + this.timeSliceMs
    try {
      while (queue.size > 0) {
        const runnable = queue.shift()!
        if (runnable.runTurn(this.throughput, deadline)) queue.push(runnable)
        if (this.sliceOver(deadline)) break
      }
    } finally {
      this.draining = false
      if (queue.size > 0 && !this.drainPending) {
        this.drainPending = true
        immediateDrains.push(this)
        setImmediate(drainNextImmediate)
      }
    }
  }
}
