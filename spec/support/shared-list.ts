import { passValue } from './worker-pass/pass-context.js'

/** Bytes before the entries: the end of the space reserved so far (an Int32, relative to the entries), and the entries written whole. */
const HEADER = 8

/**
 * An append-only list of JSON values in memory every thread running a test's jobs shares: on one
 * thread, memory of its own; in the worker-executor test pass, memory the coordinator made for the test
 * and handed to the workers that replay it (`passValue`, as `sharedSlots`), so what a listener or a
 * user function records in a worker — a sink's transaction events — the spec reads on the coordinator.
 * Each push reserves its space atomically and is seen once it is written whole; a push beyond
 * `capacity` bytes throws.
 *
 * @example
 * const events = new SharedList<KafkaTransactionEvent>()
 * kafkaSink({ …, transactionListener: (e) => events.push(e) }); …; events.values()
 */
export class SharedList<T> {
  private readonly words: Int32Array
  private readonly bytes: Uint8Array

  constructor(capacity = 1 << 20) {
    const memory = passValue(() => new SharedArrayBuffer(HEADER + Math.ceil(capacity / 4) * 4))
    this.words = new Int32Array(memory)
    this.bytes = new Uint8Array(memory)
  }

  /** Appends `value` (as JSON). */
  push(value: T): void {
    const text = new TextEncoder().encode(JSON.stringify(value))
    const size = 4 + Math.ceil(text.length / 4) * 4
    const at = HEADER + Atomics.add(this.words, 0, size)
    if (at + size > this.bytes.length) throw new Error(`SharedList: full (${this.bytes.length - HEADER} bytes)`)
    this.bytes.set(text, at + 4)
    // the length last: a reader sees the entry once it is whole
    Atomics.store(this.words, at / 4, text.length)
    Atomics.add(this.words, 1, 1)
  }

  /** How many values were pushed whole so far by every thread (without reading them). */
  get length(): number {
    return Atomics.load(this.words, 1)
  }

  /** The values pushed so far by every thread, in the order their space was reserved. */
  values(): T[] {
    const end = HEADER + Math.min(Atomics.load(this.words, 0), this.bytes.length - HEADER)
    const result: T[] = []
    for (let at = HEADER; at < end; ) {
      const length = Atomics.load(this.words, at / 4)
      if (length === 0) break // reserved, not yet written
      // a copy: TextDecoder does not read shared memory
      result.push(JSON.parse(new TextDecoder().decode(this.bytes.slice(at + 4, at + 4 + length))) as T)
      at += 4 + Math.ceil(length / 4) * 4
    }
    return result
  }
}
