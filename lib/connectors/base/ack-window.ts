/** The default byte budget of a source's unacknowledged messages (\`maxUnacknowledgedBytes\`): 64 MiB. */
export const DEFAULT_MAX_UNACKNOWLEDGED_BYTES = 64 * 1024 * 1024

/**
 * How an {@link AckWindow} grows: `'with-rate'` (the default) follows the observed rate × the checkpoint
 * interval; `'once-to-budget'` grows once, the first time the window starves the reader, to the most
 * the byte budget and `max` allow, and stays there: for brokers where each change costs a
 * re-subscription (ActiveMQ over STOMP) or cannot be told to the broker (MQTT's Receive Maximum).
 */
export type AckWindowGrowth = 'with-rate' | 'once-to-budget'

/** How an {@link AckWindow} is bounded. */
export interface AckWindowSettings {
  /** The window before any rate was observed (the connector's `prefetch`). */
  readonly initial: number
  /** The most the protocol allows (RabbitMQ's basic.qos prefetch-count is 16 bits: 65535). */
  readonly max: number
  /** Bytes that may wait unacknowledged at most (the connector's `maxUnacknowledgedBytes`). */
  readonly maxBytes: number
  /** The job's checkpoint interval; undefined without checkpointing (the window then stays `initial`). */
  readonly checkpointIntervalMs: number | undefined
  /** Default `'with-rate'`. */
  readonly growth?: AckWindowGrowth
}

/** A window is changed only when the new size differs this much (fewer re-subscriptions). */
const GROW_AT = 1.25
const SHRINK_AT = 0.5

/**
 * Sizes the unacknowledged window of a source that acknowledges on completed checkpoints: with a
 * fixed window its throughput is capped at window ÷ (time from delivery to acknowledgement), about one
 * checkpoint interval. The first time the window *starves* the reader (it ran dry with the whole
 * window waiting for acknowledgement) it grows at once, not at the next completed checkpoint (a
 * reader that waits for it reads nothing meanwhile): to twice the rate since the last completed
 * checkpoint (or the start) × the checkpoint interval (the headroom covers the time a checkpoint takes
 * to complete); until starved the messages came as fast as the job took them, so that rate is what the
 * job can take. Once only: later starvations are weighed at the next completed checkpoint, where the
 * rate over the whole cycle (idle moments included) keeps a window from swinging. At each completed
 * checkpoint after a starvation the window becomes twice the rate over the whole cycle × the
 * interval, so a window that was still the limit doubles. A window that was not the limit (a slow
 * downstream keeps the buffer full) does not grow; it shrinks to that size when the rate falls below a
 * quarter of it. It never drops below `initial` and never exceeds `max` nor half of `maxBytes` at the
 * average message size seen: while a connector changes its window, the old subscription's messages
 * and the new one's may wait together.
 *
 * With `growth: 'once-to-budget'` the first starvation sets the window to min(`max`, half of
 * `maxBytes` at the average message size seen) and it never changes again (no shrinking either).
 * Without checkpointing the window never changes.
 *
 * The clock is injected (the reader's processing-time service), so the rate is testable.
 *
 * @example
 * const window = new AckWindow({ initial: 2048, max: 65_535, maxBytes: 64 << 20, checkpointIntervalMs: 1000 }, now)
 * window.taken(128)                         // per message taken, with its size
 * const grown = window.starved()            // the buffer ran dry with the whole window unacknowledged: a new size, or undefined
 * const next = window.checkpointCompleted() // a new size to ask the broker for, or undefined
 */
export class AckWindow {
  private size: number
  private largest: number
  private sinceCount = 0
  private since: number
  private count = 0
  private bytes = 0
  private lastRate = 0
  private wasStarved = false
  /** The window grew at a starvation once: `'once-to-budget'` to its bound, `'with-rate'` from the rate so far. */
  private grown = false

  constructor(
    private readonly settings: AckWindowSettings,
    private readonly now: () => number,
  ) {
    this.size = Math.min(settings.initial, settings.max)
    this.largest = this.size
    this.since = now()
  }

  /** The window now, in messages. */
  get current(): number {
    return this.size
  }

  /** The largest window so far. */
  get maxSize(): number {
    return this.largest
  }

  /** Messages per second taken between the last two completed checkpoints. */
  get rate(): number {
    return this.lastRate
  }

  /** The most messages of the average size seen that fit half the byte budget (at least 1). */
  get byteBound(): number {
    if (this.count === 0) return this.settings.max
    return Math.max(1, Math.floor(this.settings.maxBytes / (2 * (this.bytes / this.count))))
  }

  /** A message of `bytes` was taken (emitted, or recognised as a duplicate). */
  taken(bytes: number): void {
    this.sinceCount++
    this.count++
    this.bytes += bytes
  }

  /**
   * The reader ran dry while `current` messages or more waited for acknowledgement: the window is the
   * limit. Returns the new window when it grows now (the first such time only), else undefined.
   */
  starved(): number | undefined {
    this.wasStarved = true
    const interval = this.settings.checkpointIntervalMs
    if (interval === undefined || this.grown) return undefined
    const bound = Math.min(this.settings.max, this.byteBound)
    if (this.settings.growth === 'once-to-budget') {
      this.grown = true
      return this.resize(Math.max(bound, this.settings.initial))
    }
    const elapsed = this.now() - this.since
    if (elapsed <= 0) return undefined
    const wanted = Math.min(bound, Math.ceil((2 * this.sinceCount * interval) / elapsed))
    if (wanted < this.size * GROW_AT) return undefined
    this.grown = true
    return this.resize(wanted)
  }

  /** A checkpoint completed: returns the new window when it should change, else undefined. */
  checkpointCompleted(): number | undefined {
    const at = this.now()
    const elapsed = at - this.since
    const taken = this.sinceCount
    const starved = this.wasStarved
    this.since = at
    this.sinceCount = 0
    this.wasStarved = false
    const interval = this.settings.checkpointIntervalMs
    if (elapsed <= 0 || interval === undefined) return undefined
    this.lastRate = (taken * 1000) / elapsed
    const { initial, max } = this.settings
    const bound = Math.min(max, this.byteBound)
    if (this.settings.growth === 'once-to-budget') return undefined
    const wanted = Math.min(bound, Math.max(initial, Math.ceil((2 * taken * interval) / elapsed)))
    const size = this.size
    if (wanted === size) return undefined
    if (wanted > size && (!starved || wanted < size * GROW_AT)) return undefined
    if (wanted < size && wanted > size * SHRINK_AT && size <= bound) return undefined
    return this.resize(wanted)
  }

  private resize(size: number): number | undefined {
    if (size === this.size) return undefined
    this.size = size
    if (size > this.largest) this.largest = size
    return size
  }
}
