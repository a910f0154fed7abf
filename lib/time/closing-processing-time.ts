import type { ProcessingTimeService } from './processing-time.js'

/**
 * A subtask's processing time for a connector that still sends requests while it closes: after
 * `close()`, every callback waiting runs at once and every later one on the next turn. A cancelled
 * attempt's mailbox timers never fire, so a retry backoff or a poll interval pending on them would
 * keep `close()` waiting for ever; through this service the clean-up requests (cancelling,
 * confirming) go on, without their backoff, and the retries stay bounded by their count.
 *
 * @example
 * const time = new ClosingProcessingTime(context.processingTime)
 * time.scheduleAt(time.now() + 500, retry)
 * time.close() // retry runs now
 */
export class ClosingProcessingTime implements ProcessingTimeService {
  private readonly waiting = new Set<() => void>()
  private closed = false

  constructor(private readonly time: ProcessingTimeService) {}

  now(): number {
    return this.time.now()
  }

  scheduleAt(timestamp: number, callback: () => void): () => void {
    let done = false
    const fire = (): void => {
      if (done) return
      done = true
      this.waiting.delete(fire)
      callback()
    }
    if (this.closed) {
      setImmediate(fire)
      return () => {
        done = true
      }
    }
    const cancel = this.time.scheduleAt(timestamp, fire)
    this.waiting.add(fire)
    return () => {
      done = true
      this.waiting.delete(fire)
      cancel()
    }
  }

  /** Runs every waiting callback now; later ones run on the next turn of the event loop. */
  close(): void {
    this.closed = true
    for (const fire of [...this.waiting]) fire()
  }
}
