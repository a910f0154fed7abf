/**
 * A promise with its resolve and reject functions at hand, for a result that something else settles
 * later (a connection coming up, a buffer draining, an actor terminating). Settling it twice is a no-op,
 * as for any promise; `settled` says whether it happened.
 *
 * @example
 * const ready = new Deferred<void>()
 * socket.once('connect', () => ready.resolve())
 * await ready.promise
 */
export class Deferred<T = void> {
  readonly promise: Promise<T>
  private settle!: { resolve: (value: T) => void; reject: (reason: unknown) => void }
  private done = false

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.settle = { resolve, reject }
    })
  }

  /** Whether resolve or reject was called. */
  get settled(): boolean {
    return this.done
  }

  resolve(value: T): void {
    this.done = true
    this.settle.resolve(value)
  }

  reject(reason: unknown): void {
    this.done = true
    this.settle.reject(reason)
  }
}
