import type { KeyContext } from '../state/key-context.js'
import type { Key } from '../state/key-groups.js'
import type { ProcessingTimeService } from './processing-time.js'
import { type Timer, TimerHeap } from './timer-heap.js'

/** What fires when a timer is due; the key of the timer is current while it runs. */
export interface TimerTarget {
  onEventTime(timer: Timer): void
  onProcessingTime(timer: Timer): void
}

/**
 * Event-time and processing-time timers of one keyed operator subtask (Flink's InternalTimerService).
 * Event-time timers fire, in timestamp order, when the watermark passes them; processing-time timers
 * fire when the wall clock does.
 *
 * @example
 * timers.registerEventTimeTimer(window.end - 1) // fires once the watermark reaches window.end - 1
 */
export class TimerService {
  readonly eventTimers = new TimerHeap()
  readonly processingTimers = new TimerHeap()
  private watermark = -Infinity
  private scheduledAt = Infinity
  private cancelScheduled: (() => void) | undefined

  constructor(
    private readonly keys: KeyContext,
    private readonly clock: ProcessingTimeService,
    private readonly target: TimerTarget,
  ) {}

  get currentWatermark(): number {
    return this.watermark
  }

  currentProcessingTime(): number {
    return this.clock.now()
  }

  registerEventTimeTimer(timestamp: number): void {
    this.eventTimers.add({ timestamp, key: this.keys.key, keyGroup: this.keys.keyGroup })
  }

  deleteEventTimeTimer(timestamp: number): void {
    this.eventTimers.remove(timestamp, this.keys.key)
  }

  registerProcessingTimeTimer(timestamp: number): void {
    if (this.processingTimers.add({ timestamp, key: this.keys.key, keyGroup: this.keys.keyGroup })) this.schedule()
  }

  deleteProcessingTimeTimer(timestamp: number): void {
    this.processingTimers.remove(timestamp, this.keys.key)
  }

  /** @internal Puts back a timer from a checkpoint. */
  restoreEventTimer(timestamp: number, key: Key, keyGroup: number): void {
    this.eventTimers.add({ timestamp, key, keyGroup })
  }

  /** @internal Puts back a processing-time timer from a checkpoint; `rearm` schedules it. */
  restoreProcessingTimer(timestamp: number, key: Key, keyGroup: number): void {
    this.processingTimers.add({ timestamp, key, keyGroup })
  }

  /** Fires every event-time timer at or before `watermark`, in order. */
  advanceWatermark(watermark: number): void {
    this.watermark = watermark
    let timer: Timer | undefined
    while ((timer = this.eventTimers.peek()) !== undefined && timer.timestamp <= watermark) {
      this.eventTimers.poll()
      this.keys.set(timer.key, timer.keyGroup)
      this.target.onEventTime(timer)
    }
  }

  /** Stops the wall-clock callback; pending processing-time timers stay registered (and in snapshots). */
  close(): void {
    this.cancelScheduled?.()
    this.cancelScheduled = undefined
    this.scheduledAt = Infinity
  }

  /** Re-arms the wall-clock callback after a restore. */
  rearm(): void {
    this.close()
    this.schedule()
  }

  private schedule(): void {
    const next = this.processingTimers.peek()
    if (next === undefined || next.timestamp >= this.scheduledAt) return
    this.cancelScheduled?.()
    this.scheduledAt = next.timestamp
    this.cancelScheduled = this.clock.scheduleAt(next.timestamp, () => this.fireProcessingTimers())
  }

  private fireProcessingTimers(): void {
    this.scheduledAt = Infinity
    this.cancelScheduled = undefined
    const now = this.clock.now()
    let timer: Timer | undefined
    while ((timer = this.processingTimers.peek()) !== undefined && timer.timestamp <= now) {
      this.processingTimers.poll()
      this.keys.set(timer.key, timer.keyGroup)
      this.target.onProcessingTime(timer)
    }
    this.schedule()
  }
}
