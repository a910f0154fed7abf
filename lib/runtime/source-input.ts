import type { SourceOutputAdapter } from './source-output-adapter.js'
import type { InputStatus, SourceReader } from './source.js'
import type { InputHost, InputTurn, SubtaskInput } from './subtask-input.js'

/**
 * A source subtask's input: polls the reader into the chain until the turn's budget or time slice is
 * used up, and waits for `isAvailable()` when the reader has nothing.
 *
 * @example
 * const input = new SourceInput(reader, output, host)
 * input.processInput(4096, performance.now() + 5)
 */
export class SourceInput implements SubtaskInput {
  /** Stop with a savepoint: nothing is read after the savepoint's barrier. */
  private stopped = false
  /** The reader said nothing is available and its `isAvailable()` has not settled yet. */
  private awaitingAvailability = false

  constructor(
    readonly reader: SourceReader<unknown>,
    private readonly output: SourceOutputAdapter,
    private readonly host: InputHost,
  ) {}

  stop(): void {
    this.stopped = true
  }

  get hasMore(): boolean {
    return !this.stopped
  }

  processInput(budget: number, deadline: number): InputTurn {
    if (this.stopped) return 'idle'
    const { reader, output, host } = this
    const limit = output.emitted + budget
    let status: InputStatus = 'more'
    let polls = 0
    while (status === 'more' && output.emitted < limit && !host.blocked()) {
      status = reader.pollNext(output)
      // a chained sink or async operator may ask for a pause after any poll
      host.checkPauses()
      // the clock every 16 polls: a read costs about as much as a cheap record
      if ((++polls & 15) === 0 && performance.now() > deadline) {
        host.overran()
        break
      }
    }
    host.checkPauses()
    if (status === 'end') {
      output.emitWatermark(Infinity)
      return 'end'
    }
    if (status !== 'nothing-available') return 'more'
    // One wait at a time: every wake-up (a credit, a call) polls again, and a wait per poll piled up
    // 'call' messages until the bounded mailbox refused the credits themselves (a stalled job).
    if (!this.awaitingAvailability) {
      this.awaitingAvailability = true
      host.later(reader.isAvailable(), () => {
        this.awaitingAvailability = false
        host.scheduleRun()
      })
    }
    return 'idle'
  }
}
