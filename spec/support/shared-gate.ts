import { isMainThread } from 'node:worker_threads'
import { sharedSlots } from './shared-flags.js'

/**
 * A gate that opens once, whichever thread of a test opens it, in memory every thread running the
 * test's jobs shares (`sharedSlots`): a sink's listener in one worker opens it, a source's readers in
 * every worker (and the coordinator) see it open and wake.
 *
 * @example
 * const gate = new SharedGate(); …; if (!gate.isOpen) await gate.opened(); … gate.open()
 */
export class SharedGate {
  private readonly slots = sharedSlots(1)

  /** Whether the gate was opened. */
  get isOpen(): boolean {
    return Atomics.load(this.slots, 0) !== 0
  }

  /** Opens the gate (once: later calls do nothing). */
  open(): void {
    if (Atomics.compareExchange(this.slots, 0, 0, 1) === 0) Atomics.notify(this.slots, 0)
  }

  /** Resolves once the gate is open. */
  opened(): Promise<void> {
    return changed(this.slots, 0, 0)
  }
}

/**
 * Resolves once `slots[index]` no longer holds `value`, whichever thread changes it (and notifies). In a
 * worker thread a timer keeps the thread alive meanwhile (a wait on shared memory does not, and a
 * worker whose only reader waits would exit); the worker executor ends the thread with its job.
 *
 * @example
 * await changed(slots, OPENINGS, since)
 */
export async function changed(slots: Int32Array, index: number, value: number): Promise<void> {
  const wait = (Atomics as unknown as AtomicsWaitAsync).waitAsync(slots, index, value)
  if (!wait.async) return
  const alive = isMainThread ? undefined : setInterval(() => {}, 60_000)
  await wait.value
  clearInterval(alive)
}

/** `Atomics.waitAsync` (Node ≥ 16), which the project's TypeScript lib does not declare. */
interface AtomicsWaitAsync {
  waitAsync(
    array: Int32Array,
    index: number,
    value: number,
  ): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> }
}
