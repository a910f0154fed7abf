import type { Logger } from '../../logging.js'
import type { DeadLetter } from '../../runtime/output-tag.js'
import type { SourceReaderContext } from '../../runtime/source.js'

/**
 * Where one reader sends what it cannot take: a {@link DeadLetter} naming the operator and subtask,
 * stamped on the reader's processing-time clock, to the job's dead-letter output (counted, logged,
 * published on `job.deadLetters`); a reader driven outside a job logs it instead.
 *
 * @example
 * const letters = new DeadLetterChannel('tcp-server', context)
 * letters.send('not json', 'line 3 is not JSON')
 */
export class DeadLetterChannel {
  private readonly subtask: number
  private readonly deliver: ((letter: DeadLetter) => void) | undefined
  private readonly log: Logger | undefined
  private readonly context: SourceReaderContext

  constructor(
    private readonly operator: string,
    context: SourceReaderContext,
  ) {
    this.context = context
    this.subtask = context.subtask
    this.deliver = context.deadLetter
    this.log = context.logger
  }

  /** Sends `record` (or a prefix of it the caller cut) with the reason; `error` is the cause when there is one. */
  send(record: unknown, reason: string, error?: unknown): void {
    const at = this.context.processingTime.now()
    if (this.deliver !== undefined)
      this.deliver({ operator: this.operator, subtask: this.subtask, reason, record, error, at })
    else this.log?.warn('dead letter', { operator: this.operator, subtask: this.subtask, reason })
  }
}
