/**
 * Wall-clock time and callbacks at a wall-clock time. The engine routes callbacks through the subtask's
 * mailbox so they never interleave with a batch; embedded mode calls them from a plain timer.
 */
export interface ProcessingTimeService {
  now(): number
  /** Calls `callback` at or after `timestamp`; returns a function that cancels it. */
  scheduleAt(timestamp: number, callback: () => void): () => void
}

/**
 * Processing time from `Date.now()` and `setTimeout`.
 *
 * @example
 * const cancel = systemProcessingTime.scheduleAt(Date.now() + 100, () => console.log('tick'))
 */
export const systemProcessingTime: ProcessingTimeService = {
  now: () => Date.now(),
  scheduleAt(timestamp, callback) {
    const handle = setTimeout(callback, Math.max(0, timestamp - Date.now()))
    return () => clearTimeout(handle)
  },
}
