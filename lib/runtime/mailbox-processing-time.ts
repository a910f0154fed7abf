import type { ActorRef } from '../actors/actor-ref.js'
import type { ProcessingTimeService } from '../time/processing-time.js'
import type { SubtaskMessage } from './subtask-message.js'

/**
 * Processing time for a subtask: wall-clock callbacks are delivered through the subtask's mailbox, so
 * they never run in the middle of a batch, and not at all once its deployment was cancelled.
 *
 * @example
 * const clock = mailboxProcessingTime(self, attempt); clock.scheduleAt(clock.now() + 200, emitWatermark)
 */
export function mailboxProcessingTime(
  self: ActorRef<SubtaskMessage>,
  attempt: { readonly cancelled: boolean },
): ProcessingTimeService {
  return {
    now: () => Date.now(),
    scheduleAt: (timestamp, callback) => {
      const handle = setTimeout(
        () => {
          if (!attempt.cancelled) self.tell({ t: 'call', fn: callback })
        },
        Math.max(0, timestamp - Date.now()),
      )
      return () => clearTimeout(handle)
    },
  }
}
