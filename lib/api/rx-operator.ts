import { Subject, type OperatorFunction, type Subscription } from 'rxjs'
import { StreamOperator } from '../runtime/stream-operator.js'

/**
 * Runs a plain RxJS operator inside one subtask. Records it emits while handling an input keep that
 * input's timestamp; its internal state is invisible to the engine, so it is not checkpointed.
 *
 * @example
 * stream.pipe(bufferCount(10)) // runs bufferCount through an RxOperator
 */
export class RxOperator<IN, OUT> extends StreamOperator<IN, OUT> {
  private readonly input = new Subject<IN>()
  private subscription: Subscription | undefined
  private currentTimestamp: number | undefined
  private failure: unknown
  private failed = false

  constructor(private readonly operator: OperatorFunction<IN, OUT>) {
    super()
  }

  override open(): void {
    this.subscription = this.operator(this.input).subscribe({
      next: (value) => this.output.collect(value, this.currentTimestamp),
      error: (error) => {
        this.failed = true
        this.failure = error
      },
    })
  }

  processRecord(value: IN, timestamp: number | undefined): void {
    this.currentTimestamp = timestamp
    this.input.next(value)
    this.currentTimestamp = undefined
    this.rethrow()
  }

  override endInput(): void {
    this.input.complete()
    this.rethrow()
  }

  override close(): void {
    this.subscription?.unsubscribe()
    super.close()
  }

  private rethrow(): void {
    if (this.failed) throw this.failure
  }
}
