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
  private pending: Promise<void> | undefined
  private resolve: (() => void) | undefined
  private signalled = false

  get promise(): Promise<void> {
    if (this.signalled) {
      this.signalled = false
      return Promise.resolve()
    }
    this.pending ??= new Promise<void>((resolve) => {
      this.resolve = resolve
    })
    return this.pending
  }

  signal(): void {
    if (this.resolve !== undefined) {
      const resolve = this.resolve
      this.resolve = undefined
      this.pending = undefined
      resolve()
    } else {
      this.signalled = true
    }
  }
}
