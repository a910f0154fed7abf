import { StateError } from '../errors.js'
import type { ValueState } from '../state/value-state.js'
import type { MergingWindowAssigner } from './window-assigner.js'
import type { Window } from './window.js'

/**
 * Called when windows merge: `mergeResult` replaces `mergedWindows`; the contents of
 * `mergedStateWindows` must move into `stateWindowResult`.
 */
export type MergeFunction<W extends Window> = (
  mergeResult: W,
  mergedWindows: readonly W[],
  stateWindowResult: W,
  mergedStateWindows: readonly W[],
) => void

/**
 * The session windows of one key and where their contents live (Flink's MergingWindowSet). Each
 * window maps to a *state window*: the window under which its contents are stored. When windows
 * merge, the result keeps the state window of one of them and the contents of the others move
 * there, so merging moves the least state and timers of the kept window stay valid.
 *
 * Read from keyed state for each record or timer and written back with `persist()` when changed.
 *
 * @example
 * const set = new MergingWindowSet(assigner, mappingState)
 * const actual = set.addWindow(new TimeWindow(10, 20), (result, merged, stateResult, mergedState) => moveContents(stateResult, mergedState))
 * set.stateWindow(actual) // where `actual`'s contents are kept
 * set.persist()
 */
export class MergingWindowSet<W extends Window> {
  /** Window id → [window, state window]. */
  private readonly mapping = new Map<string, [W, W]>()
  private changed = false

  constructor(
    private readonly assigner: MergingWindowAssigner<unknown, W>,
    private readonly state: ValueState<[W, W][]>,
  ) {
    for (const pair of state.value() ?? []) this.mapping.set(pair[0].id, pair)
  }

  /** The windows of this key (not their state windows). */
  windows(): W[] {
    return [...this.mapping.values()].map(([window]) => window)
  }

  /** Where the contents of `window` are kept; undefined for a window this set does not hold. */
  stateWindow(window: W): W | undefined {
    return this.mapping.get(window.id)?.[1]
  }

  /** Forgets a window that was fired and cleaned up (or was late). */
  retireWindow(window: W): void {
    if (!this.mapping.delete(window.id))
      throw new StateError('ERR_WINDOW_STATE', `window ${window.id} is not in the merging window set`)
    this.changed = true
  }

  /**
   * Adds a new window, merging it with the windows it overlaps; returns the window it ended up in.
   * `merge` runs for every merge that involved windows with state (the new window alone has none).
   */
  addWindow(newWindow: W, merge: MergeFunction<W>): W {
    const windows = [...this.mapping.values()].map(([window]) => window)
    windows.push(newWindow)
    const results: [W, W[]][] = []
    this.assigner.mergeWindows(windows, (toBeMerged, mergeResult) => results.push([mergeResult, toBeMerged]))

    let resultWindow = newWindow
    let mergedNewWindow = false
    for (const [mergeResult, group] of results) {
      // Remove one occurrence only: a new window equal to an existing one leaves the existing one in the group.
      const mergedWindows = [...group]
      const at = mergedWindows.findIndex((w) => w.id === newWindow.id)
      if (at >= 0) {
        mergedWindows.splice(at, 1)
        mergedNewWindow = true
        resultWindow = mergeResult
      }
      // The merge result keeps the state window of one of the merged windows; the others' contents move there.
      const stateWindowResult = this.mapping.get(mergedWindows[0]!.id)![1]
      const mergedStateWindows: W[] = []
      for (const merged of mergedWindows) {
        const pair = this.mapping.get(merged.id)
        if (pair === undefined) continue
        this.mapping.delete(merged.id)
        if (pair[1].id !== stateWindowResult.id) mergedStateWindows.push(pair[1])
      }
      this.mapping.set(mergeResult.id, [mergeResult, stateWindowResult])
      this.changed = true
      // A new window that falls inside one existing window changes nothing: no merge to report.
      if (!(mergedWindows.length === 1 && mergedWindows[0]!.id === mergeResult.id))
        merge(mergeResult, mergedWindows, stateWindowResult, mergedStateWindows)
    }
    if (results.length === 0 || (resultWindow.id === newWindow.id && !mergedNewWindow)) {
      this.mapping.set(resultWindow.id, [resultWindow, resultWindow])
      this.changed = true
    }
    return resultWindow
  }

  /** Writes the set back to keyed state if it changed. */
  persist(): void {
    if (!this.changed) return
    if (this.mapping.size === 0) this.state.clear()
    else this.state.update([...this.mapping.values()])
    this.changed = false
  }
}
