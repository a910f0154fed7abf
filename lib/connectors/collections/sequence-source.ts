import { ConfigError } from '../../errors.js'
import type { InputStatus, Source, SourceOutput, SourceReader, SourceReaderContext } from '../../runtime/source.js'

const RUN = 64

/** A range still to emit: `next` up to and including `end`. */
export interface SequenceSplit {
  next: number
  end: number
}

/**
 * Emits the whole numbers from `from` to `to` inclusive (Flink's NumberSequenceSource). Parallel: the
 * range is cut into one split per subtask; positions are checkpointed per split, and on a restore with
 * another parallelism the splits are dealt out again.
 *
 * @example
 * env.fromSource(new SequenceSource(1, 1_000_000), { parallelism: 4 })
 */
export class SequenceSource implements Source<number, SequenceSplit> {
  readonly name = 'sequence'
  readonly bounded = true

  constructor(
    readonly from: number,
    readonly to: number,
  ) {
    if (!Number.isSafeInteger(from)) throw new ConfigError('fromSequence.from', from, 'a safe integer')
    if (!Number.isSafeInteger(to) || to < from)
      throw new ConfigError('fromSequence.to', to, `a safe integer not below from (${from})`)
  }

  createReader(context: SourceReaderContext, restored?: SequenceSplit[]): SourceReader<number, SequenceSplit> {
    if (restored !== undefined) return new SequenceReader(restored.map((s) => ({ ...s })))
    const count = this.to - this.from + 1
    const start = this.from + Math.floor((count * context.subtask) / context.parallelism)
    const end = this.from + Math.floor((count * (context.subtask + 1)) / context.parallelism) - 1
    return new SequenceReader(end >= start ? [{ next: start, end }] : [])
  }
}

class SequenceReader implements SourceReader<number, SequenceSplit> {
  private current: SequenceSplit | undefined

  constructor(private readonly splits: SequenceSplit[]) {
    this.current = splits.find((s) => s.next <= s.end)
  }

  start(): void {}

  pollNext(output: SourceOutput<number>): InputStatus {
    const split = this.current
    if (split === undefined) return 'end'
    const last = Math.min(split.end, split.next + RUN - 1)
    while (split.next <= last) output.collect(split.next++)
    if (split.next > split.end) {
      this.current = this.splits.find((s) => s.next <= s.end)
      if (this.current === undefined) return 'end'
    }
    return 'more'
  }

  isAvailable(): Promise<void> {
    return Promise.resolve()
  }

  snapshotState(): SequenceSplit[] {
    return this.splits.filter((s) => s.next <= s.end).map((s) => ({ ...s }))
  }

  close(): void {}
}
