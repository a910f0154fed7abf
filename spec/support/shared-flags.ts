import { passValue } from './worker-pass/pass-context.js'

/**
 * Int32 slots (`initial`, then zeros) that every thread running a test's jobs shares: on one thread, memory of its own; in the
 * worker-executor test pass, memory the coordinator made for the test and handed to the workers that
 * replay it (`passValue`), so a fault that must fire once fires once over every thread and every fresh
 * worker of a restart, and a count a user function keeps is the count over all of them.
 *
 * @example
 * const slots = sharedSlots(4, [1]); Atomics.add(slots, 0, 1)
 */
export function sharedSlots(count: number, initial: readonly number[] = []): Int32Array {
  return new Int32Array(
    passValue(() => {
      const memory = new SharedArrayBuffer(4 * count)
      new Int32Array(memory).set(initial)
      return memory
    }),
  )
}

/**
 * A record of flags and counts (booleans and int32 numbers) in {@link sharedSlots}: reads and writes of
 * its fields go to memory every thread of the test shares, so a fault flag set in a worker is set for
 * the fresh workers of a restart and for the coordinator, and a count kept in a user function counts
 * over every thread. Fields are the ones of `initial`, with their types.
 *
 * @example
 * const flags = sharedRecord({ failed: false, calls: 0 })
 * map((x: number) => { flags.calls++; if (x === 500 && !flags.failed) { flags.failed = true; throw new Error('injected') } return x })
 */
export function sharedRecord<R extends Record<string, boolean | number>>(
  initial: R,
): { -readonly [K in keyof R]: R[K] extends boolean ? boolean : number } {
  const keys = Object.keys(initial)
  // made with its initial values once, by the coordinator: a worker replaying the test gets the memory as it is now
  const slots = sharedSlots(
    keys.length,
    keys.map((key) => Number(initial[key])),
  )
  const record = {} as { -readonly [K in keyof R]: R[K] extends boolean ? boolean : number }
  keys.forEach((key, i) => {
    const bool = typeof initial[key] === 'boolean'
    Object.defineProperty(record, key, {
      enumerable: true,
      get: () => (bool ? Atomics.load(slots, i) !== 0 : Atomics.load(slots, i)),
      set: (value: boolean | number) => void Atomics.store(slots, i, Number(value)),
    })
  })
  return record
}
