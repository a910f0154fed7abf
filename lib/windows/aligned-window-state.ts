import { StateError } from '../errors.js'
import { ValueStateDescriptor } from '../state/descriptors.js'
import type { KeyedStateBackend } from '../state/keyed-state-backend.js'
import type { Key } from '../state/key-groups.js'
import type { StateSerializer } from '../state/serializers/serializer.js'
import type { StateTable } from '../state/state-table.js'
import type { AlignedWindows } from './aligned-windows.js'
import type { TimeWindow } from './time-window.js'
import type { WindowContents } from './window-contents.js'
import { WindowEndIndex } from './window-end-index.js'
import { windowStateSerializer } from './window-serializer.js'
import type { WindowTimers } from './window-timers.js'

/** Name of the keyed state that holds every key's aligned windows (the aligned path's only window state). */
export const ALIGNED_STATE = 'sluice.window.aligned'

/**
 * The open windows of one key: window ends ascending, with each window's contents at the same index
 * (the window is `[end - size, end)`). Two arrays, not an object per window, so adding to the key's
 * newest window reads the last slot of each.
 */
export interface KeyWindows<ACC> {
  readonly ends: number[]
  readonly contents: ACC[]
}

/**
 * The serializer of the aligned window state: each key's windows as `[end, contents]` pairs, contents
 * through the window state serializer. Version 1.
 *
 * @example
 * new ValueStateDescriptor('sluice.window.aligned', { serializer: alignedWindowsSerializer })
 */
export const alignedWindowsSerializer: StateSerializer<KeyWindows<unknown>> = {
  id: 'sluice.window-aligned',
  version: 1,
  serialize: (windows) => windows.ends.map((end, i) => [end, windowStateSerializer.serialize(windows.contents[i])]),
  deserialize: (data, version) => {
    if (version !== 1)
      throw new StateError(
        'ERR_SERIALIZER_VERSION',
        `aligned window state written by serializer version ${version}; this build reads version 1`,
      )
    const pairs = data as [number, unknown][]
    return {
      ends: pairs.map(([end]) => end),
      contents: pairs.map(([, contents]) => windowStateSerializer.deserialize(contents, 1)),
    }
  },
}

/**
 * The windows of aligned assigners (tumbling, sliding) under the default event-time trigger and no
 * allowed lateness, kept as each key's {@link KeyWindows} (Flink's contents state per key and window,
 * in one entry per key). Records in order land in the key's newest window: the last slot of its
 * arrays, found without hashing a window, with no allocation and no timer. Instead of a timer per key
 * and window, a {@link WindowEndIndex} fires each window end once for all its keys, in order of end.
 *
 * The index is not checkpointed: it is rebuilt from the state on restore.
 *
 * Threading: used by one window operator subtask, inside its mailbox. Bounds: one array slot per key
 * and open window, one index entry per key and open window.
 *
 * @example
 * const state = AlignedWindowState.open(backend, 'sluice.window.contents', windowTimers, contents, aligned)
 * state.add('k', 3, value, 5_000, watermark) // false: every window of the record was late
 * state.fire(watermark, (key, group, window, contents) => emit(key, window, contents))
 */
export class AlignedWindowState<IN, ACC> {
  private readonly index = new WindowEndIndex()
  private onFire: (key: Key, group: number, window: TimeWindow, contents: ACC) => void = () => {}
  /** The window of the end being fired, shared by its keys. */
  private firing: TimeWindow | undefined

  constructor(
    private readonly table: StateTable<KeyWindows<ACC>>,
    private readonly contents: Pick<WindowContents<IN, ACC, unknown, never>, 'add'>,
    private readonly windows: AlignedWindows,
  ) {
    for (let group = table.range.start; group <= table.range.end; group++)
      for (const [key, held] of table.entries(group)) for (const end of held.ends) this.index.add(end - 1, key, group)
  }

  /**
   * Declares the aligned window state on `backend` and opens it, with the windows of a checkpoint
   * written before this state existed (contents per key and window in the state named `general`, by
   * the general path or by earlier releases' aligned path) moved in, and their timers deleted.
   *
   * @example
   * const state = AlignedWindowState.open(backend, 'sluice.window.contents', windowTimers, contents, aligned)
   */
  static open<IN, ACC>(
    backend: KeyedStateBackend,
    general: string,
    timers: WindowTimers<TimeWindow>,
    contents: Pick<WindowContents<IN, ACC, unknown, never>, 'add'>,
    windows: AlignedWindows,
  ): AlignedWindowState<IN, ACC> {
    backend.getState(new ValueStateDescriptor<KeyWindows<ACC>>(ALIGNED_STATE, { serializer: alignedWindowsSerializer }))
    const table = backend.table(ALIGNED_STATE) as StateTable<KeyWindows<ACC>>
    adoptContentsPerWindow(backend, general, table, timers)
    return new AlignedWindowState(table, contents, windows)
  }

  /**
   * Adds a record of `key` to each of its windows that is not late (ends after `watermark`). False
   * when no window took it: all were late, or (a slide longer than the size) it falls in no window.
   */
  add(key: Key, group: number, value: IN, timestamp: number, watermark: number): boolean {
    const windows = this.windows.candidates(timestamp)
    const oldest = timestamp - this.windows.alignment.sizeMs
    let held = this.table.get(key, group)
    // Candidates come newest first, so `slot` only moves down the key's ends, which ascend.
    let slot = held === undefined ? -1 : held.ends.length - 1
    let added = false
    for (let i = 0; i < windows.length; i++) {
      const window = windows[i]!
      if (window.start <= oldest) break
      const end = window.end
      if (end - 1 <= watermark) continue
      added = true
      if (held === undefined) {
        held = { ends: [], contents: [] }
        this.table.put(key, group, held)
      } else {
        const ends = held.ends
        while (slot >= 0 && ends[slot]! > end) slot--
        if (slot >= 0 && ends[slot] === end) {
          held.contents[slot] = this.contents.add(held.contents[slot], value, timestamp)
          continue
        }
      }
      const contents = this.contents.add(undefined, value, timestamp)
      const at = slot + 1
      if (at === held.ends.length) {
        held.ends.push(end)
        held.contents.push(contents)
      } else {
        held.ends.splice(at, 0, end)
        held.contents.splice(at, 0, contents)
      }
      this.index.add(end - 1, key, group)
    }
    return added
  }

  /**
   * Fires, in order of their end, the windows that end at or before `watermark`: `fire` runs with the
   * window already removed from the state.
   */
  fire(watermark: number, fire: (key: Key, group: number, window: TimeWindow, contents: ACC) => void): void {
    this.onFire = fire
    this.index.fire(watermark, this.fireDue)
    this.firing = undefined
  }

  /** The window of `key` ending at `time + 1` is due (if the key still has it). */
  private readonly fireDue = (time: number, key: Key, group: number): void => {
    const held = this.table.get(key, group)
    if (held === undefined) return
    const end = time + 1
    const { ends, contents } = held
    let slot = 0
    while (slot < ends.length && ends[slot]! < end) slot++
    if (ends[slot] !== end) return
    const fired = contents[slot]!
    if (ends.length === 1) this.table.remove(key, group)
    else if (slot === 0) {
      ends.shift()
      contents.shift()
    } else {
      ends.splice(slot, 1)
      contents.splice(slot, 1)
    }
    if (this.firing?.end !== end) this.firing = this.windows.endingAt(time)
    this.onFire(key, group, this.firing, fired)
  }
}

/** What the general path keeps per state window (`WindowOperator`'s contents entries). */
interface ContentsEntry {
  readonly window: { readonly start: number; readonly end: number }
  readonly contents: unknown
}

/**
 * Moves the windows of a checkpoint that kept contents per key and window (a map from window id to
 * window and contents) into the aligned state, and deletes their timers, so the aligned path restores
 * it as if it had written it.
 *
 * @example
 * adoptContentsPerWindow(backend, 'sluice.window.contents', alignedTable, windowTimers)
 */
function adoptContentsPerWindow<ACC>(
  backend: KeyedStateBackend,
  contentsStateName: string,
  aligned: StateTable<KeyWindows<ACC>>,
  timers: WindowTimers<TimeWindow>,
): void {
  const contents = backend.table(contentsStateName) as StateTable<Map<string, ContentsEntry>> | undefined
  if (contents === undefined || contents.size === 0) return
  for (let group = contents.range.start; group <= contents.range.end; group++) {
    for (const [key, held] of [...contents.entries(group)]) {
      backend.keyContext.set(key, group)
      const entries = [...held.values()].sort((a, b) => a.window.end - b.window.end)
      timers.dropAll('event-time')
      contents.remove(key, group)
      if (entries.length > 0)
        aligned.put(key, group, {
          ends: entries.map((entry) => entry.window.end),
          contents: entries.map((entry) => entry.contents as ACC),
        })
    }
  }
}

/**
 * For the general path: refuses a checkpoint that holds windows of the aligned path, which it cannot
 * take over, instead of losing them.
 *
 * @example
 * refuseAlignedState(backend, 'window(TumblingEventTimeWindows(1000))')
 */
export function refuseAlignedState(backend: KeyedStateBackend, operator: string): void {
  if (!backend.unclaimedStates().includes(ALIGNED_STATE)) return
  backend.getState(
    new ValueStateDescriptor<KeyWindows<unknown>>(ALIGNED_STATE, { serializer: alignedWindowsSerializer }),
  )
  if (backend.table(ALIGNED_STATE)!.size === 0) return
  throw new StateError(
    'ERR_STATE_INCOMPATIBLE',
    `operator ${operator}: the checkpoint holds tumbling or sliding windows of the default event-time trigger with no allowed lateness (state ${ALIGNED_STATE}); restore it with that trigger and lateness`,
  )
}
