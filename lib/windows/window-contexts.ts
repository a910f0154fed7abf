import { StateError } from '../errors.js'
import type { OutputTag } from '../runtime/output-tag.js'
import { MapStateDescriptor, type ValueStateDescriptor } from '../state/descriptors.js'
import type { KeyedStateBackend } from '../state/keyed-state-backend.js'
import type { MapState } from '../state/map-state.js'
import type { TimerService } from '../time/timer-service.js'
import type { KeyedStateStore, ProcessWindowContext, WindowStateStore } from './process-window-function.js'
import type { OnMergeContext, WindowValueState } from './triggers/trigger.js'
import type { Window } from './window.js'
import type { WindowTimers } from './window-timers.js'

const PREFIX = 'sluice.window.scoped.'

/** Something that says which window is current: the contexts below, which the operator moves from window to window. */
interface WindowScope {
  readonly window: Window
}

/**
 * Window-scoped keyed state: one map state per name, from window id to value, so the current key's
 * entry holds a value per window. The operator deletes a window's entries when the window goes.
 *
 * @example
 * const count = states.scoped<number>('trigger', 'count', ctx)
 * count.update((count.value() ?? 0) + 1) // for the context's current key and window
 */
export class WindowScopedStates {
  private readonly maps = new Map<string, MapState<string, unknown>>()

  constructor(private readonly backend: KeyedStateBackend) {}

  /** The per-window value `name` in namespace `owner` (trigger or user), for the window `scope` points at. */
  scoped<T>(owner: 'trigger' | 'user', name: string, scope: WindowScope, defaultValue?: T): WindowValueState<T> {
    return new ScopedValueState<T>(this.map(`${owner}.${name}`) as MapState<string, T>, scope, defaultValue)
  }

  /**
   * Declares the per-window states a checkpoint brought back, so they are restored (and written into
   * the next checkpoint) even before a trigger or function asks for them by name.
   */
  claimRestored(): void {
    for (const name of this.backend.unclaimedStates()) if (name.startsWith(PREFIX)) this.map(name.slice(PREFIX.length))
  }

  /** Deletes every user value of `window` (the window has expired). */
  clearUserState(window: Window): void {
    if (this.maps.size === 0) return // no window state in use: even an empty Map allocates an iterator
    for (const [name, map] of this.maps) if (name.startsWith('user.')) map.remove(window.id)
  }

  map(qualifiedName: string): MapState<string, unknown> {
    let map = this.maps.get(qualifiedName)
    if (map === undefined) {
      map = this.backend.getMapState(new MapStateDescriptor<string, unknown>(`${PREFIX}${qualifiedName}`))
      this.maps.set(qualifiedName, map)
    }
    return map
  }
}

class ScopedValueState<T> implements WindowValueState<T> {
  constructor(
    private readonly map: MapState<string, T>,
    private readonly scope: WindowScope,
    private readonly defaultValue: T | undefined,
  ) {}

  value(): T | undefined {
    const v = this.map.get(this.scope.window.id)
    return v === undefined ? this.defaultValue : v
  }

  update(value: T): void {
    if (value === undefined) this.clear()
    else this.map.put(this.scope.window.id, value)
  }

  clear(): void {
    this.map.remove(this.scope.window.id)
  }
}

/**
 * The context handed to triggers (Flink's WindowOperator.Context): timers and state of the current key
 * and of `window`, which the operator sets before each call. One per operator, reused.
 *
 * @example
 * ctx.window = window; const result = trigger.onElement(value, ts, window, ctx)
 */
export class WindowTriggerContext<W extends Window> implements OnMergeContext<W>, WindowScope {
  window!: W
  mergedWindows: readonly W[] = []
  private readonly cache = new Map<string, WindowValueState<unknown>>()

  constructor(
    private readonly timers: TimerService,
    private readonly windowTimers: WindowTimers<W>,
    private readonly states: WindowScopedStates,
  ) {}

  currentProcessingTime(): number {
    return this.timers.currentProcessingTime()
  }

  currentWatermark(): number {
    return this.timers.currentWatermark
  }

  registerEventTimeTimer(time: number): void {
    this.windowTimers.register('event-time', this.window, time)
  }

  registerProcessingTimeTimer(time: number): void {
    this.windowTimers.register('processing-time', this.window, time)
  }

  deleteEventTimeTimer(time: number): void {
    this.windowTimers.delete('event-time', this.window, time)
  }

  deleteProcessingTimeTimer(time: number): void {
    this.windowTimers.delete('processing-time', this.window, time)
  }

  getState<T>(name: string): WindowValueState<T> {
    let state = this.cache.get(name)
    if (state === undefined) {
      state = this.states.scoped<unknown>('trigger', name, this)
      this.cache.set(name, state)
    }
    return state as WindowValueState<T>
  }

  mergeState<T>(name: string, merge: (a: T, b: T) => T): void {
    const map = this.states.map(`trigger.${name}`) as MapState<string, T>
    let merged = map.get(this.window.id)
    for (const window of this.mergedWindows) {
      const value = map.get(window.id)
      if (value === undefined) continue
      map.remove(window.id)
      merged = merged === undefined ? value : merge(merged, value)
    }
    if (merged !== undefined) map.put(this.window.id, merged)
  }
}

/**
 * The context handed to process window functions and evictors, for the window the operator sets.
 *
 * @example
 * ctx.window = window; fn.process(key, ctx, elements, out)
 */
export class WindowProcessContext<W extends Window> implements ProcessWindowContext<W>, WindowStateStore, WindowScope {
  window!: W

  constructor(
    private readonly timers: TimerService,
    private readonly states: WindowScopedStates,
    readonly globalState: KeyedStateStore,
    private readonly emitSide: (tag: OutputTag<unknown>, value: unknown, timestamp: number) => void,
    private readonly operatorName: string,
    private readonly merging: boolean,
  ) {}

  get currentWatermark(): number {
    return this.timers.currentWatermark
  }

  get currentProcessingTime(): number {
    return this.timers.currentProcessingTime()
  }

  get windowState(): WindowStateStore {
    return this
  }

  getState<T>(descriptor: ValueStateDescriptor<T>): WindowValueState<T> {
    // As Flink: a session's contents move between state windows on merges, but per-window state would not follow.
    if (this.merging)
      throw new StateError(
        'ERR_WINDOW_STATE',
        `operator ${this.operatorName}: per-window state (windowState) is not available with merging (session) windows`,
      )
    return this.states.scoped<T>('user', descriptor.name, this, descriptor.defaultValue)
  }

  output<X>(tag: OutputTag<X>, value: X): void {
    this.emitSide(tag as OutputTag<unknown>, value, this.window.maxTimestamp())
  }
}
