import type { OperatorCounts } from './job-metrics.js'

/**
 * One operator's records in and out in one subtask, read by the job's metrics snapshot.
 *
 * The record path counts as little as it can and the rest is derived when the counts are read, so
 * both stay exact. An operator whose one input is its upstream's only main edge inside the chain
 * takes exactly the records that upstream emits: its records in are the upstream's records out
 * ({@link deriveInFrom}). A fused map emits every record it takes but those its function failed on:
 * its records out are its records in less {@link failed} ({@link deriveOutFromIn}).
 *
 * @example
 * const source = new OperatorMetrics('numbers', 0)
 * const double = new OperatorMetrics('double', 0)
 * double.deriveInFrom(source); double.deriveOutFromIn()
 * source.countedOut += 3; double.failed++
 * double.recordsIn // 3
 * double.recordsOut // 2
 */
export class OperatorMetrics implements OperatorCounts {
  /** Records in, counted where they arrive; unread when they are derived. */
  countedIn = 0
  /** Records out, counted by the operator's output or fused path; unread when they are derived. */
  countedOut = 0
  /** Records a fused map took in and did not emit: its function failed on them. */
  failed = 0
  private upstream: OperatorMetrics | undefined = undefined
  private outIsInLessFailed = false

  constructor(
    readonly operator: string,
    readonly subtask: number,
  ) {}

  /** This operator's records in are `upstream`'s records out; nothing counts them again. */
  deriveInFrom(upstream: OperatorMetrics): void {
    this.upstream = upstream
  }

  /** This operator's records out are its records in less those it failed on; nothing counts them. */
  deriveOutFromIn(): void {
    this.outIsInLessFailed = true
  }

  get recordsIn(): number {
    return this.upstream === undefined ? this.countedIn : this.upstream.recordsOut
  }

  get recordsOut(): number {
    return this.outIsInLessFailed ? this.recordsIn - this.failed : this.countedOut
  }
}
