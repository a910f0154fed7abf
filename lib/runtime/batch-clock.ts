import type { ProcessingTimeService } from '../time/processing-time.js'

/**
 * A subtask's processing time, read from the wall clock at most once per batch: while the subtask works
 * (inside one mailbox message), `now()` returns the time it read first since the current batch began,
 * and the subtask begins a new batch after every poll of its source and every batch from its input
 * channels. Outside the subtask's work — a client's callback, a timer not routed through the mailbox —
 * `now()` reads the clock every time. Timers are the wrapped service's.
 *
 * Why: operators that read processing time per record (the file sink's rolling policy and bucket
 * assigner, processing-time window assigners) paid a clock read per record, about a tenth of a simple
 * sink's CPU. Records of one batch are processed in one synchronous stretch, and no timer of the subtask
 * can fire inside it (timers come through the mailbox), so they share one time, as if processed at the
 * start of their batch. The time is never older than the batch being processed, so it is not stale
 * after an idle period.
 *
 * @example
 * const clock = new BatchClock(mailboxProcessingTime(self, attempt))
 * clock.begin(); clock.now() === clock.now(); clock.nextBatch(); clock.end()
 */
export class BatchClock implements ProcessingTimeService {
  private time = 0
  /** `time` holds this batch's reading. */
  private read = false
  /** The subtask is inside a mailbox message. */
  private working = false

  constructor(private readonly clock: ProcessingTimeService) {}

  now(): number {
    if (this.read) return this.time
    const time = this.clock.now()
    if (this.working) {
      this.time = time
      this.read = true
    }
    return time
  }

  scheduleAt(timestamp: number, callback: () => void): () => void {
    return this.clock.scheduleAt(timestamp, callback)
  }

  /** The subtask starts handling a message: a batch begins. */
  begin(): void {
    this.working = true
    this.read = false
  }

  /** A new batch begins within the same message (after a poll, after a channel batch). */
  nextBatch(): void {
    this.read = false
  }

  /** The subtask is done with its message: reads are exact until the next one. */
  end(): void {
    this.working = false
    this.read = false
  }
}
