/**
 * How one turn of input ended: `more` (the subtask decides whether to go on), `idle` (nothing to read
 * now: the input wakes the subtask itself when there is), `end` (all input has been read).
 */
export type InputTurn = 'more' | 'idle' | 'end'

/** What an input needs from the subtask whose turn it runs. */
export interface InputHost {
  /** Downstream gave no credit, a sink asked to wait, or a checkpoint holds input. */
  blocked(): boolean
  /** Pauses the subtask when a chained sink or async operator asks for it. */
  checkPauses(): void
  /** The turn ended because its time slice ran out: the next one yields to timers and I/O first. */
  overran(): void
  /** Runs `then` inside the subtask's actor once `work` settles; a rejection fails the subtask. */
  later(work: Promise<unknown>, then: () => void): void
  scheduleRun(): void
}

/**
 * The input of a subtask (Flink's StreamInputProcessor): a source reader, or the input gate of its
 * channels. The subtask runs one `processInput` per turn, whichever it is.
 *
 * @example
 * const turn = input.processInput(budget, performance.now() + 5)
 * if (turn === 'end') subtask.endInput()
 */
export interface SubtaskInput {
  /** Reads until `budget` records, the `deadline` (performance.now()), backpressure, or no more input. */
  processInput(budget: number, deadline: number): InputTurn
  /** Whether input may be waiting: the subtask schedules another turn rather than flushing. */
  readonly hasMore: boolean
}
