import { createLogger } from '../../lib/logging.js'
import type { OperatorRestore } from '../../lib/checkpoint/state-assignment.js'
import type { Output } from '../../lib/runtime/output.js'
import type { OutputTag } from '../../lib/runtime/output-tag.js'
import type { StreamOperator } from '../../lib/runtime/stream-operator.js'
import { type Key, KeyGroupRange, keyGroupOf } from '../../lib/state/key-groups.js'
import { ManualClock } from '../time/manual-clock.js'

/** Everything an operator under test emitted, in order. */
export type Emitted<T> =
  | { kind: 'record'; value: T; timestamp: number | undefined }
  | { kind: 'watermark'; watermark: number }
  | { kind: 'status'; idle: boolean }
  | { kind: 'side'; tag: string; value: unknown; timestamp: number | undefined }

/** An output that records what it is given. */
export class RecordingOutput<T> implements Output<T> {
  readonly emitted: Emitted<T>[] = []

  collect(value: T, timestamp: number | undefined): void {
    this.emitted.push({ kind: 'record', value, timestamp })
  }

  emitWatermark(watermark: number): void {
    this.emitted.push({ kind: 'watermark', watermark })
  }

  emitWatermarkStatus(idle: boolean): void {
    this.emitted.push({ kind: 'status', idle })
  }

  emitSide<X>(tag: OutputTag<X>, value: X, timestamp: number | undefined): void {
    this.emitted.push({ kind: 'side', tag: tag.id, value, timestamp })
  }

  records(): T[] {
    return this.emitted.flatMap((e) => (e.kind === 'record' ? [e.value] : []))
  }

  watermarks(): number[] {
    return this.emitted.flatMap((e) => (e.kind === 'watermark' ? [e.watermark] : []))
  }

  statuses(): boolean[] {
    return this.emitted.flatMap((e) => (e.kind === 'status' ? [e.idle] : []))
  }
}

/**
 * Runs one operator by hand, as the runtime would: set up (keyed or not) with a manual clock, opened,
 * then fed records and watermarks by the test.
 *
 * @example
 * const h = OperatorHarness.keyed(new WindowOperator(spec))
 * h.record('a', 5, 'key-1'); h.watermark(100); h.output.records()
 */
export class OperatorHarness<IN, OUT> {
  readonly output = new RecordingOutput<OUT>()

  private constructor(
    readonly operator: StreamOperator<IN, OUT>,
    readonly clock: ManualClock,
    keyed: boolean,
    restore?: OperatorRestore,
  ) {
    operator.setup(
      {
        name: 'op-under-test',
        uid: 'op-under-test',
        subtask: 0,
        parallelism: 1,
        maxParallelism: 128,
        keyGroups: keyed ? new KeyGroupRange(0, 127) : undefined,
        processingTime: clock,
        errorPolicy: 'escalate',
        runInMailbox: (fn) => fn(),
        autoWatermarkIntervalMs: 200,
        logger: createLogger({ level: 'silent' }),
      },
      this.output,
    )
    if (restore !== undefined) operator.initializeState(restore)
    operator.open()
  }

  /** A keyed operator; with `restore`, its state is taken back from a checkpoint before it opens. */
  static keyed<IN, OUT>(
    operator: StreamOperator<IN, OUT>,
    clock = new ManualClock(),
    restore?: OperatorRestore,
  ): OperatorHarness<IN, OUT> {
    return new OperatorHarness(operator, clock, true, restore)
  }

  static unkeyed<IN, OUT>(operator: StreamOperator<IN, OUT>, clock = new ManualClock()): OperatorHarness<IN, OUT> {
    return new OperatorHarness(operator, clock, false)
  }

  record(value: IN, timestamp?: number, key?: Key): void {
    if (key !== undefined) this.operator.keyedState!.keyContext.set(key, keyGroupOf(key, 128))
    this.operator.processRecord(value, timestamp)
  }

  watermark(watermark: number): void {
    this.operator.processWatermark(watermark)
  }
}
