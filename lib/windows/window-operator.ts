import { describeValue, PipelineError, StateError } from '../errors.js'
import { type Collector, operatorRuntimeContext } from '../operators/process-function.js'
import type { OutputTag } from '../runtime/output-tag.js'
import { StreamOperator, handleUserError } from '../runtime/stream-operator.js'
import { MapStateDescriptor, ValueStateDescriptor } from '../state/descriptors.js'
import type { Key } from '../state/key-groups.js'
import type { KeyedStateBackend } from '../state/keyed-state-backend.js'
import type { MapState } from '../state/map-state.js'
import type { ValueState } from '../state/value-state.js'
import type { Timer } from '../time/timer-heap.js'
import type { TimerService } from '../time/timer-service.js'
import type { Evictor } from './evictors/evictor.js'
import { AlignedWindowState, refuseAlignedState } from './aligned-window-state.js'
import { AlignedWindows } from './aligned-windows.js'
import { EventTimeSessions, refuseSessionState, type Session } from './event-time-sessions.js'
import { MergingWindowSet } from './merging-window-set.js'
import { EventTimeTrigger } from './triggers/event-time-trigger.js'
import { isFire, isPurge, type Trigger } from './triggers/trigger.js'
import {
  isAlignedAssigner,
  isMergingAssigner,
  isSessionAssigner,
  type MergingWindowAssigner,
  type WindowAssigner,
  type WindowAssignerContext,
} from './window-assigner.js'
import type { WindowContents } from './window-contents.js'
import { WindowProcessContext, WindowScopedStates, WindowTriggerContext } from './window-contexts.js'
import { type TimeDomain, WindowTimers } from './window-timers.js'
import { windowStateSerializer } from './window-serializer.js'
import { TimeWindow } from './time-window.js'
import { MAX_TIMESTAMP, type Window } from './window.js'

/** Everything a window operator is made of; built by `WindowedStream`. */
export interface WindowOperatorSpec<IN, ACC, OUT, W extends Window> {
  readonly assigner: WindowAssigner<IN, W>
  readonly trigger: Trigger<IN, W>
  readonly evictor: Evictor<IN, W> | undefined
  readonly allowedLatenessMs: number
  readonly lateOutput: OutputTag<IN> | undefined
  readonly contents: WindowContents<IN, ACC, OUT, W>
}

/** What is kept per key and state window: the window itself (to fire it at end of input) and its contents. */
interface WindowEntry<ACC, W extends Window> {
  readonly window: W
  contents: ACC
}

const CONTENTS = 'sluice.window.contents'
const MERGING_WINDOWS = 'sluice.window.merging-windows'
const NO_TIMESTAMP =
  'has no timestamp: use assignTimestampsAndWatermarks (or a source with timestamps) before an event-time window'

/**
 * Evaluates windows of a keyed stream (Flink's WindowOperator and EvictingWindowOperator): assigns each
 * record to windows, keeps their contents in keyed state, asks the trigger when to fire and purge, and
 * cleans each window up once the watermark (or wall clock) passes its end plus the allowed lateness.
 *
 * - A record for an event-time window that is already cleaned up is *late*: it goes to `lateOutput`, or
 *   is dropped and counted in `lateRecordsDropped` (Flink drops it without a trace in the job's output).
 * - Results are stamped with the window's `maxTimestamp()`.
 * - At the end of input, the final `Infinity` watermark fires every event-time window; processing-time
 *   windows still open are fired by `endInput`, so a bounded job loses none of them. Global windows
 *   (count windows) are not: a partial count window is never emitted, as in Flink.
 * - Aligned event-time windows (tumbling, sliding) with the default trigger and no allowed lateness
 *   take a shorter path with the same results ({@link AlignedWindowState}): each key's windows in one
 *   state entry, the windows of a record computed without allocation, and each window end fired once
 *   for all its keys instead of a timer per key and window. A checkpoint of the general path (or of
 *   earlier releases) is adopted on restore.
 * - Event-time session windows with the default trigger and no allowed lateness take the session path
 *   ({@link EventTimeSessions}): each key's sessions in one state entry, no timer per record, the same
 *   results in order of window end. A checkpoint of the general merging path is adopted on restore.
 *
 * @example
 * keyed.transform('window', () => new WindowOperator({ assigner, trigger: assigner.defaultTrigger(), evictor: undefined,
 *   allowedLatenessMs: 0, lateOutput: undefined, contents: windowContents(spec, undefined) }))
 */
export class WindowOperator<IN, ACC, OUT, W extends Window>
  extends StreamOperator<IN, OUT>
  implements Collector<OUT>, WindowAssignerContext
{
  /** Records dropped for being later than the allowed lateness, with no `lateOutput` to go to. */
  lateRecordsDropped = 0

  private readonly assigner: WindowAssigner<IN, W>
  private readonly merging: MergingWindowAssigner<IN, W> | undefined
  private readonly isEventTime: boolean
  /** Set for the aligned path (see the class comment): how the assigner's windows are laid out. */
  private readonly aligned: AlignedWindows | undefined
  private alignedState: AlignedWindowState<IN, ACC> | undefined
  /** Set for the session path (see the class comment): the gap of a record's session. */
  private readonly sessionGap: ((value: IN) => number) | undefined
  private sessions: EventTimeSessions<IN, ACC> | undefined
  private backend!: KeyedStateBackend
  private timerService!: TimerService
  private entries!: MapState<string, WindowEntry<ACC, W>>
  private mergingState: ValueState<[W, W][]> | undefined
  private windowTimers!: WindowTimers<W>
  private states!: WindowScopedStates
  private triggerContext!: WindowTriggerContext<W>
  private processContext!: WindowProcessContext<W>
  private emitTimestamp = 0

  constructor(readonly spec: WindowOperatorSpec<IN, ACC, OUT, W>) {
    super()
    this.assigner = spec.assigner
    this.merging = isMergingAssigner(spec.assigner) ? spec.assigner : undefined
    this.isEventTime = spec.assigner.timeDomain === 'event-time'
    this.aligned =
      isAlignedAssigner(spec.assigner) &&
      this.isEventTime &&
      spec.trigger === EventTimeTrigger.create() &&
      spec.allowedLatenessMs === 0
        ? new AlignedWindows(spec.assigner.alignment)
        : undefined
    this.sessionGap =
      isSessionAssigner(spec.assigner) &&
      this.isEventTime &&
      spec.trigger === EventTimeTrigger.create() &&
      spec.allowedLatenessMs === 0
        ? spec.assigner.sessionGap
        : undefined
  }

  override open(): void {
    if (this.keyedState === undefined || this.timers === undefined) {
      throw new StateError(
        'ERR_STATE_UNKEYED',
        `operator ${this.name}: a window operator needs a keyed input (use keyBy, or window() on an unkeyed stream)`,
      )
    }
    this.backend = this.keyedState
    this.timerService = this.timers
    this.entries = this.backend.getMapState(
      new MapStateDescriptor<string, WindowEntry<ACC, W>>(CONTENTS, { serializer: windowStateSerializer }),
    )
    this.mergingState =
      this.merging === undefined
        ? undefined
        : this.backend.getState(
            new ValueStateDescriptor<[W, W][]>(MERGING_WINDOWS, { serializer: windowStateSerializer }),
          )
    this.windowTimers = new WindowTimers<W>(this.backend, this.timerService)
    this.states = new WindowScopedStates(this.backend)
    this.states.claimRestored()
    this.triggerContext = new WindowTriggerContext<W>(this.timerService, this.windowTimers, this.states)
    const runtime = operatorRuntimeContext(this, this.setupInfo.parallelism)
    this.processContext = new WindowProcessContext<W>(
      this.timerService,
      this.states,
      runtime,
      (tag, value, ts) => this.output.emitSide(tag, value, ts),
      this.name,
      this.merging !== undefined,
    )
    this.spec.contents.open(runtime)
    if (this.aligned !== undefined)
      this.alignedState = AlignedWindowState.open(
        this.backend,
        CONTENTS,
        this.windowTimers as unknown as WindowTimers<TimeWindow>,
        this.spec.contents,
        this.aligned,
      )
    else refuseAlignedState(this.backend, this.name)
    if (this.sessionGap !== undefined)
      this.sessions = EventTimeSessions.open(
        this.backend,
        { mergingWindows: MERGING_WINDOWS, contents: CONTENTS },
        this.windowTimers as unknown as WindowTimers<TimeWindow>,
        this.spec.contents,
        this.sessionGap,
      )
    else if (this.merging !== undefined) refuseSessionState(this.backend, this.name)
  }

  currentProcessingTime(): number {
    return this.setupInfo.processingTime.now()
  }

  processRecord(value: IN, timestamp: number | undefined): void {
    if (this.isEventTime && timestamp === undefined)
      throw new PipelineError(
        'ERR_NO_TIMESTAMP',
        this.name,
        this.subtask,
        `record ${describeValue(value)} ${NO_TIMESTAMP}`,
      )
    if (this.alignedState !== undefined) {
      const keys = this.backend.keyContext
      const watermark = this.timerService.currentWatermark
      // No window took it: late if it is behind the watermark (a sliding gap may hold a record in no window).
      if (
        !this.alignedState.add(keys.key, keys.keyGroup, value, timestamp as number, watermark) &&
        (timestamp as number) <= watermark
      )
        this.onLateRecord(value, timestamp)
      return
    }
    if (this.sessions !== undefined) {
      const keys = this.backend.keyContext
      if (!this.sessions.add(keys.key, keys.keyGroup, value, timestamp as number, this.timerService.currentWatermark))
        this.onLateRecord(value, timestamp)
      return
    }
    const windows = this.assigner.assignWindows(value, timestamp, this)
    let skipped = true
    if (this.merging !== undefined) {
      const set = this.mergingWindowSet()
      for (const window of windows) {
        const actual = set.addWindow(window, (result, merged, stateResult, mergedState) =>
          this.mergeWindows(result, merged, stateResult, mergedState),
        )
        if (this.isWindowLate(actual)) {
          set.retireWindow(actual)
          continue
        }
        skipped = false
        this.addToWindow(actual, set.stateWindow(actual)!, value, timestamp)
      }
      set.persist()
    } else {
      for (const window of windows) {
        if (this.isWindowLate(window)) continue
        skipped = false
        this.addToWindow(window, window, value, timestamp)
      }
    }
    if (skipped && this.isElementLate(timestamp)) this.onLateRecord(value, timestamp)
  }

  private onLateRecord(value: IN, timestamp: number | undefined): void {
    if (this.spec.lateOutput !== undefined) this.output.emitSide(this.spec.lateOutput, value, timestamp)
    else this.lateRecordsDropped++
  }

  override processWatermark(watermark: number): void {
    if (this.alignedState === undefined && this.sessions === undefined) return super.processWatermark(watermark)
    this.timerService.advanceWatermark(watermark)
    if (this.alignedState !== undefined) this.alignedState.fire(watermark, this.fireAligned)
    else this.sessions!.fire(watermark, this.fireSession)
    this.output.emitWatermark(watermark)
  }

  override onTimer(timer: Timer, domain: 'event-time' | 'processing-time'): void {
    for (const window of this.windowTimers.take(domain, timer.timestamp))
      this.onWindowTimer(window, timer.timestamp, domain)
  }

  override detailedMetrics(): Readonly<Record<string, unknown>> {
    return { lateRecordsDropped: this.lateRecordsDropped }
  }

  override endInput(): void {
    if (this.assigner.timeDomain !== 'processing-time') return
    const table = this.backend.table(CONTENTS)!
    const keys: [Key, number][] = []
    for (let group = table.range.start; group <= table.range.end; group++)
      for (const [key] of table.entries(group)) keys.push([key, group])
    for (const [key, group] of keys) {
      this.backend.keyContext.set(key, group)
      this.fireRemainingWindows()
    }
  }

  override close(): void {
    super.close()
    this.spec.contents.close()
  }

  /** Collector of the window function: every result carries the fired window's max timestamp. */
  collect(value: OUT): void {
    this.output.collect(value, this.emitTimestamp)
  }

  private addToWindow(window: W, stateWindow: W, value: IN, timestamp: number | undefined): void {
    const entry = this.entries.get(stateWindow.id)
    if (entry === undefined)
      this.entries.put(stateWindow.id, {
        window: stateWindow,
        contents: this.spec.contents.add(undefined, value, timestamp),
      })
    else entry.contents = this.spec.contents.add(entry.contents, value, timestamp)
    this.triggerContext.window = window
    const result = this.spec.trigger.onElement(value, timestamp, window, this.triggerContext)
    if (isFire(result)) this.emitWindow(window, stateWindow)
    if (isPurge(result)) this.entries.remove(stateWindow.id)
    this.registerCleanupTimer(window)
  }

  /**
   * Fires and cleans up a window of the aligned path that the watermark passed, as a cleanup timer of
   * the general path would (the event-time trigger fires at the window's end). The trigger's `clear`
   * is not called: the aligned path registers no trigger timers.
   */
  private readonly fireAligned = (key: Key, group: number, window: TimeWindow, contents: ACC): void => {
    this.backend.keyContext.set(key, group)
    const time = window.end - 1
    try {
      this.emitTimestamp = time
      this.processContext.window = window as unknown as W
      this.spec.contents.emit(key, window as unknown as W, contents, this.processContext, this)
      this.spec.contents.clear(key, this.processContext)
      this.states.clearUserState(window)
    } catch (error) {
      handleUserError(this, { timestamp: time, key, keyGroup: group } satisfies Timer, error)
    }
  }

  /** Fires and cleans up a session that the watermark passed, as the general path's timer would. */
  private readonly fireSession = (key: Key, group: number, session: Session<ACC>): void => {
    this.backend.keyContext.set(key, group)
    const window = new TimeWindow(session.start, session.end) as unknown as W
    const time = session.end - 1
    try {
      this.emitTimestamp = time
      this.processContext.window = window
      this.spec.contents.emit(key, window, session.contents, this.processContext, this)
      this.spec.contents.clear(key, this.processContext)
      this.states.clearUserState(window)
    } catch (error) {
      handleUserError(this, { timestamp: time, key, keyGroup: group } satisfies Timer, error)
    }
  }

  private onWindowTimer(window: W, time: number, domain: TimeDomain): void {
    let set: MergingWindowSet<W> | undefined
    let stateWindow = window
    if (this.merging !== undefined) {
      set = this.mergingWindowSet()
      const known = set.stateWindow(window)
      // A timer of a window that has since merged into another: the merged window has its own timers.
      if (known === undefined) return
      stateWindow = known
    }
    if (this.entries.contains(stateWindow.id)) {
      this.triggerContext.window = window
      const result =
        domain === 'event-time'
          ? this.spec.trigger.onEventTime(time, window, this.triggerContext)
          : this.spec.trigger.onProcessingTime(time, window, this.triggerContext)
      if (isFire(result)) this.emitWindow(window, stateWindow)
      if (isPurge(result)) this.entries.remove(stateWindow.id)
    }
    if ((domain === 'event-time') === this.isEventTime && time === this.cleanupTime(window))
      this.clearAllState(window, stateWindow, set)
    set?.persist()
  }

  private emitWindow(window: W, stateWindow: W): void {
    const entry = this.entries.get(stateWindow.id)
    if (entry === undefined) return
    this.emitTimestamp = window.maxTimestamp()
    this.processContext.window = window
    if (!this.spec.contents.emit(this.backend.keyContext.key, window, entry.contents, this.processContext, this))
      this.entries.remove(stateWindow.id)
  }

  /** The window's contents, trigger state, user window state and merging entry go; its timers were deleted or fired. */
  private clearAllState(window: W, stateWindow: W, set: MergingWindowSet<W> | undefined): void {
    this.entries.remove(stateWindow.id)
    this.triggerContext.window = window
    this.spec.trigger.clear(window, this.triggerContext)
    this.processContext.window = window
    this.spec.contents.clear(this.backend.keyContext.key, this.processContext)
    this.states.clearUserState(window)
    set?.retireWindow(window)
  }

  private mergeWindows(
    mergeResult: W,
    mergedWindows: readonly W[],
    stateWindowResult: W,
    mergedStateWindows: readonly W[],
  ): void {
    if (
      this.isEventTime &&
      mergeResult.maxTimestamp() + this.spec.allowedLatenessMs <= this.timerService.currentWatermark
    ) {
      throw new StateError(
        'ERR_WINDOW_MERGE',
        `operator ${this.name}: merging made window ${mergeResult.id} end before the current watermark ${this.timerService.currentWatermark}`,
      )
    }
    if (this.assigner.timeDomain === 'processing-time' && mergeResult.maxTimestamp() <= this.currentProcessingTime()) {
      throw new StateError(
        'ERR_WINDOW_MERGE',
        `operator ${this.name}: merging made window ${mergeResult.id} end before the current processing time`,
      )
    }
    this.triggerContext.window = mergeResult
    this.triggerContext.mergedWindows = mergedWindows
    this.spec.trigger.onMerge?.(mergeResult, this.triggerContext)
    this.triggerContext.mergedWindows = []
    for (const merged of mergedWindows) {
      this.triggerContext.window = merged
      this.spec.trigger.clear(merged, this.triggerContext)
      this.deleteCleanupTimer(merged)
    }
    let target = this.entries.get(stateWindowResult.id)
    for (const source of mergedStateWindows) {
      const entry = this.entries.get(source.id)
      if (entry === undefined) continue
      this.entries.remove(source.id)
      if (target === undefined) {
        target = { window: stateWindowResult, contents: entry.contents }
        this.entries.put(stateWindowResult.id, target)
      } else target.contents = this.spec.contents.merge(target.contents, entry.contents)
    }
  }

  /** Fires and removes every window of the current key (end of input, processing time). */
  private fireRemainingWindows(): void {
    const set = this.merging === undefined ? undefined : this.mergingWindowSet()
    const windows = set !== undefined ? set.windows() : [...this.entries.values()].map((entry) => entry.window)
    windows.sort((a, b) => a.maxTimestamp() - b.maxTimestamp())
    for (const window of windows) {
      const stateWindow = set?.stateWindow(window) ?? window
      this.emitWindow(window, stateWindow)
      this.deleteCleanupTimer(window)
      this.clearAllState(window, stateWindow, set)
    }
    set?.persist()
  }

  private mergingWindowSet(): MergingWindowSet<W> {
    return new MergingWindowSet<W>(this.merging as MergingWindowAssigner<unknown, W>, this.mergingState!)
  }

  /** When the window's state goes: its end plus the allowed lateness in event time, its end in processing time. */
  private cleanupTime(window: W): number {
    const time = this.isEventTime ? window.maxTimestamp() + this.spec.allowedLatenessMs : window.maxTimestamp()
    return Math.min(time, MAX_TIMESTAMP)
  }

  private registerCleanupTimer(window: W): void {
    const time = this.cleanupTime(window)
    if (time === MAX_TIMESTAMP) return
    this.windowTimers.register(this.isEventTime ? 'event-time' : 'processing-time', window, time)
  }

  private deleteCleanupTimer(window: W): void {
    const time = this.cleanupTime(window)
    if (time === MAX_TIMESTAMP) return
    this.windowTimers.delete(this.isEventTime ? 'event-time' : 'processing-time', window, time)
  }

  private isWindowLate(window: W): boolean {
    return this.isEventTime && this.cleanupTime(window) <= this.timerService.currentWatermark
  }

  private isElementLate(timestamp: number | undefined): boolean {
    return this.isEventTime && (timestamp as number) + this.spec.allowedLatenessMs <= this.timerService.currentWatermark
  }
}
