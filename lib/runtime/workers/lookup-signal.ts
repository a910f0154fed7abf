/**
 * A flag in shared memory that says a worker thread has queryable-state lookups waiting in its port. The
 * coordinator raises it before it posts a batch of lookups; the worker lowers it when it reads one. While
 * it is raised, the worker's dispatcher ends its time slice where it next reads the clock (every 8
 * messages), so the port's message is read within about a millisecond instead of after the rest of a
 * 4 ms slice: a lookup's round trip no longer waits behind the job.
 *
 * Raising before posting keeps the flag from staying up with nothing to read: every raise is followed by
 * a message whose reading lowers it, and a lowering that races a later raise leaves that raise's message
 * to be read at the next end of a slice, as before.
 *
 * @example
 * const signal = new LookupSignal() // coordinator; pass signal.buffer in workerData
 * signal.raise(); worker.postMessage(lookups)
 * const here = new LookupSignal(buffer) // worker: new ActorSystem({ yieldRequested: () => here.raised })
 */
export class LookupSignal {
  private readonly flag: Int32Array

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)) {
    this.flag = new Int32Array(buffer)
  }

  /** Lookups are on their way to the worker. */
  raise(): void {
    Atomics.store(this.flag, 0, 1)
  }

  /** The worker is reading the lookups it was sent. */
  lower(): void {
    Atomics.store(this.flag, 0, 0)
  }

  get raised(): boolean {
    return Atomics.load(this.flag, 0) !== 0
  }
}
