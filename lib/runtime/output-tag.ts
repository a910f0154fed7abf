/**
 * Names a side output: an operator emits to it with `ctx.output(tag, value)` and a job reads it with
 * `stream.getSideOutput(tag)`. Tags compare by id.
 *
 * @example
 * const late = new OutputTag<Reading>('late-readings')
 */
export class OutputTag<T> {
  declare readonly _type?: T
  constructor(readonly id: string) {}
}

/** A record that could not be processed or decoded, with the reason. Nothing is dropped silently. */
export interface DeadLetter {
  operator: string
  subtask: number
  reason: string
  record: unknown
  error?: unknown
  at: number
}

/**
 * The side output every operator sends records to when they fail under the `resume` error policy or
 * cannot be decoded. Read it with `stream.getSideOutput(DEAD_LETTERS)`; letters no stream reads are
 * published on the job handle's `deadLetters` and logged.
 *
 * @example
 * const parsed = lines.pipe(map(JSON.parse, { onError: 'resume' }))
 * parsed.getSideOutput(DEAD_LETTERS).print()
 */
export const DEAD_LETTERS = new OutputTag<DeadLetter>('sluice.dead-letters')
