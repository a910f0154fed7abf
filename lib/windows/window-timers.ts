import type { KeyedStateBackend } from '../state/keyed-state-backend.js'
import { MapStateDescriptor } from '../state/descriptors.js'
import type { MapState } from '../state/map-state.js'
import type { TimerService } from '../time/timer-service.js'
import { windowStateSerializer } from './window-serializer.js'
import type { Window } from './window.js'

/** A timer domain of the window operator. */
export type TimeDomain = 'event-time' | 'processing-time'

/**
 * Timers of (key, window, time): Flink's window timers carry the window as their namespace, while the
 * engine's timer service knows only (key, time). This keeps, per key and time, the windows waiting for
 * it, in keyed state (so it is checkpointed with the timers), and holds one engine timer per (key,
 * time) while any window waits for that time.
 *
 * @example
 * timers.register('event-time', window, window.maxTimestamp())
 * // when the engine timer of the current key fires at t:
 * for (const w of timers.take('event-time', t)) fireWindow(w)
 */
export class WindowTimers<W extends Window> {
  private readonly eventTime: MapState<number, Map<string, W>>
  private readonly processingTime: MapState<number, Map<string, W>>

  constructor(
    backend: KeyedStateBackend,
    private readonly timers: TimerService,
  ) {
    this.eventTime = backend.getMapState(
      new MapStateDescriptor<number, Map<string, W>>('sluice.window.event-time-timers', {
        serializer: windowStateSerializer,
      }),
    )
    this.processingTime = backend.getMapState(
      new MapStateDescriptor<number, Map<string, W>>('sluice.window.processing-time-timers', {
        serializer: windowStateSerializer,
      }),
    )
  }

  register(domain: TimeDomain, window: W, time: number): void {
    const state = this.state(domain)
    let windows = state.get(time)
    if (windows === undefined) {
      windows = new Map()
      state.put(time, windows)
      if (domain === 'event-time') this.timers.registerEventTimeTimer(time)
      else this.timers.registerProcessingTimeTimer(time)
    }
    windows.set(window.id, window)
  }

  delete(domain: TimeDomain, window: W, time: number): void {
    const state = this.state(domain)
    const windows = state.get(time)
    if (windows === undefined || !windows.delete(window.id) || windows.size > 0) return
    state.remove(time)
    if (domain === 'event-time') this.timers.deleteEventTimeTimer(time)
    else this.timers.deleteProcessingTimeTimer(time)
  }

  /** The windows of the current key due at `time`, removed: the engine timer for it has fired. */
  take(domain: TimeDomain, time: number): W[] {
    const state = this.state(domain)
    const windows = state.get(time)
    if (windows === undefined) return []
    state.remove(time)
    return [...windows.values()]
  }

  /** Deletes every timer of the current key in `domain`, with its engine timers. */
  dropAll(domain: TimeDomain): void {
    const state = this.state(domain)
    for (const time of [...state.keys()]) {
      if (domain === 'event-time') this.timers.deleteEventTimeTimer(time)
      else this.timers.deleteProcessingTimeTimer(time)
    }
    state.clear()
  }

  private state(domain: TimeDomain): MapState<number, Map<string, W>> {
    return domain === 'event-time' ? this.eventTime : this.processingTime
  }
}
