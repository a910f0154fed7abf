import { Deferred } from '../util/deferred.js'

/**
 * A promise that resolves when something becomes available and is renewed once consumed (Flink's
 * AvailabilityHelper). Readers hand it out from `isAvailable()` and resolve it when data arrives.
 *
 * @example
 * const available = new Availability()
 * reader.isAvailable = () => available.promise
 * socket.on('data', () => available.signal())
 */
export class Availability {
  private pending: Deferred | undefined
  private signalled = false

  get promise(): Promise<void> {
    if (this.signalled) {
      this.signalled = false
      return Promise.resolve()
    }
    this.pending ??= new Deferred()
    return this.pending.promise
  }

  /**
   * Drops a signal nobody waited for: the reader emitted what it announced and has nothing now, so the
   * next `promise` waits for the next `signal` instead of waking its subtask for nothing.
   */
  forget(): void {
    this.signalled = false
  }

  signal(): void {
    if (this.pending !== undefined) {
      const pending = this.pending
      this.pending = undefined
      pending.resolve()
    } else {
      this.signalled = true
    }
  }
}
