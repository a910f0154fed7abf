import { SluiceError } from '../../errors.js'
import { hostedJob, hostedJobStarted, replayNumbering } from './worker-thread.js'

/**
 * A count that every thread of the process shares (slot 0 of `slots`, what is taken of it now, over
 * every thread), with the owner's settings in the slots after it; `held` at `index` is what this
 * thread has taken of it, so that what a worker held when its thread ended is given back.
 */
export interface SharedCount {
  readonly slots: Int32Array
  readonly held: Int32Array
  readonly index: number
}

/** On the coordinator: the counts made since the numbering began, in order of creation. */
let made: SharedArrayBuffer[] = []
let madeIn = -1
/** In a worker: how many counts the replay of the entry module has made. */
let replayed = 0

/**
 * The shared count of the next object of the entry module that needs one (a `sharedLimiter`). The
 * worker executor runs the entry module again in each worker, which so makes its own copy of the object:
 * on the coordinator each call makes memory and records it, and each worker is started with the memory
 * made so far ({@link sharedCountsForWorker}); in a worker the n-th call takes the coordinator's n-th,
 * so both copies count in the same memory. A worker that makes a count the coordinator had not made
 * before the worker started, or one of another shape (`settings` differ), built its objects in another
 * order: that fails with `ERR_WORKER_SHARED_COUNT`. Once the job a worker hosts has started, later
 * counts are the worker's own (no job of that worker uses them).
 *
 * @example
 * const count = sharedCount([concurrency], 'sharedLimiter(3)') // Atomics.add(count.slots, 0, 1)
 */
export function sharedCount(settings: readonly number[], what: string): SharedCount {
  const hosted = hostedJob()
  if (hosted === undefined) {
    if (madeIn !== replayNumbering()) {
      made = []
      madeIn = replayNumbering()
    }
    made.push(countMemory(settings))
    return { slots: new Int32Array(made.at(-1)!), held: new Int32Array(made.length), index: made.length - 1 }
  }
  const index = replayed++
  const memory = hosted.sharedCounts?.[index]
  if (memory === undefined) {
    if (hostedJobStarted()) return { slots: new Int32Array(countMemory(settings)), held: new Int32Array(1), index: 0 }
    throw new SluiceError(
      'ERR_WORKER_SHARED_COUNT',
      `worker thread ${hosted.thread} made ${what} as shared count #${index}, which the coordinator had not made before job ${hosted.job} started: make every shared limiter in the same order on every thread, before execute()`,
    )
  }
  const slots = new Int32Array(memory)
  const shape = Array.from(slots.subarray(1))
  if (shape.length !== settings.length || shape.some((s, i) => s !== settings[i]))
    throw new SluiceError(
      'ERR_WORKER_SHARED_COUNT',
      `worker thread ${hosted.thread} made ${what} as shared count #${index}, where the coordinator had made one with settings [${shape.join(', ')}]: make every shared limiter in the same order on every thread`,
    )
  return { slots, held: new Int32Array(hosted.heldCounts), index }
}

/**
 * On the coordinator, for a worker it starts now: the counts made so far, and memory where the worker
 * keeps what it holds of each.
 *
 * @example
 * const { sharedCounts, heldCounts } = sharedCountsForWorker() // into workerData
 */
export function sharedCountsForWorker(): { sharedCounts: SharedArrayBuffer[]; heldCounts: SharedArrayBuffer } {
  const sharedCounts = madeIn === replayNumbering() ? [...made] : []
  return { sharedCounts, heldCounts: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * sharedCounts.length) }
}

/**
 * On the coordinator, once a worker's thread has exited (a restart or a cancel terminates it, or it
 * crashed): gives back to each count what the worker held of it, and wakes the threads that wait on it.
 *
 * @example
 * worker.on('exit', () => giveBackHeld(start.sharedCounts, start.heldCounts))
 */
export function giveBackHeld(sharedCounts: readonly SharedArrayBuffer[], heldCounts: SharedArrayBuffer): void {
  const held = new Int32Array(heldCounts)
  sharedCounts.forEach((memory, index) => {
    const taken = Atomics.exchange(held, index, 0)
    if (taken === 0) return
    const slots = new Int32Array(memory)
    Atomics.sub(slots, 0, taken)
    Atomics.notify(slots, 0)
  })
}

function countMemory(settings: readonly number[]): SharedArrayBuffer {
  const memory = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (1 + settings.length))
  new Int32Array(memory).set(settings, 1)
  return memory
}
