import { StateError } from '../errors.js'
import { ValueStateDescriptor } from '../state/descriptors.js'
import type { KeyedStateBackend } from '../state/keyed-state-backend.js'
import type { Key } from '../state/key-groups.js'
import type { StateSerializer } from '../state/serializers/serializer.js'
import type { StateTable } from '../state/state-table.js'
import type { WindowContents } from './window-contents.js'
import { WindowEndIndex } from './window-end-index.js'
import { windowStateSerializer } from './window-serializer.js'
import type { TimeWindow } from './time-window.js'
import type { WindowTimers } from './window-timers.js'

/** Name of the keyed state that holds every key's sessions (the session path's only window state). */
export const SESSIONS_STATE = 'sluice.window.sessions'

/**
 * One open session of a key: the window `[start, end)` and its contents. `indexedAt` is the time of
 * the session's entry in the end index (at or before `end - 1`); it is not checkpointed. The state
 * holds a key's latest session, which links to the one before it (`previous`, older and disjoint),
 * so a record of the latest session reaches it from the key's entry without an array in between.
 */
export interface Session<ACC> {
  start: number
  end: number
  contents: ACC
  indexedAt: number
  previous: Session<ACC> | undefined
}

/** A key's sessions oldest first, from its latest one. */
function sessionsOf<ACC>(latest: Session<ACC>): Session<ACC>[] {
  const sessions: Session<ACC>[] = []
  for (let s: Session<ACC> | undefined = latest; s !== undefined; s = s.previous) sessions.push(s)
  return sessions.reverse()
}

/** Links sessions given oldest first; returns the latest, or undefined for none. */
function linked<ACC>(sessions: readonly Session<ACC>[]): Session<ACC> | undefined {
  let previous: Session<ACC> | undefined
  for (const session of sessions) {
    session.previous = previous
    previous = session
  }
  return previous
}

/**
 * The serializer of the session state: each key's sessions, oldest first, as `[start, end, contents]`
 * triples, contents through the window state serializer. Version 1 (the form is the same since the
 * state held an array of sessions: it holds the latest session and its links now).
 *
 * @example
 * new ValueStateDescriptor('sluice.window.sessions', { serializer: sessionsSerializer })
 */
export const sessionsSerializer: StateSerializer<Session<unknown>> = {
  id: 'sluice.window-sessions',
  version: 1,
  serialize: (latest) => sessionsOf(latest).map((s) => [s.start, s.end, windowStateSerializer.serialize(s.contents)]),
  deserialize: (data, version) => {
    if (version !== 1)
      throw new StateError(
        'ERR_SERIALIZER_VERSION',
        `session window state written by serializer version ${version}; this build reads version 1`,
      )
    const sessions = (data as [number, number, unknown][]).map(
      ([start, end, contents]): Session<unknown> => ({
        start,
        end,
        contents: windowStateSerializer.deserialize(contents, 1),
        indexedAt: end - 1,
        previous: undefined,
      }),
    )
    return linked(sessions)!
  },
}

/**
 * The event-time sessions of every key under the default event-time trigger and no allowed lateness,
 * kept as each key's disjoint sessions, the latest one in the key's state entry linking to the older
 * ones (Flink's MergingWindowSet and contents state in one entry). A record at `t` with gap `g` has the window `[t, t + g)`; it joins (and bridges) the
 * sessions it overlaps or touches, or opens a new one. The common case, a record that extends the
 * key's latest session, changes two numbers and the contents: no allocation, no timer.
 *
 * Instead of a timer that moves with every record, each session has one entry in a
 * {@link WindowEndIndex} at or before its last timestamp, added when it opens. When the watermark
 * passes an entry, sessions of that key that end by then fire, and sessions that grew since get a new
 * entry at their end, which the same watermark may pass too: windows fire in order of their end, once
 * each, as Flink's timers would fire them, at one index step per session and watermark.
 *
 * The index is not checkpointed: it is rebuilt from the session state on restore.
 *
 * Threading: used by one window operator subtask, inside its mailbox. Bounds: one array entry per open
 * session; index entries per session at most one per watermark that passes an old end.
 *
 * @example
 * const sessions = new EventTimeSessions(table, contents, () => 1_000)
 * sessions.add('k', 3, value, 5_000, watermark) // false: the record's window was late
 * sessions.fire(watermark, (key, group, session) => emit(key, session))
 */
export class EventTimeSessions<IN, ACC> {
  private readonly index = new WindowEndIndex()
  private onFire: (key: Key, group: number, session: Session<ACC>) => void = () => {}

  constructor(
    private readonly table: StateTable<Session<ACC>>,
    private readonly contents: Pick<WindowContents<IN, ACC, unknown, never>, 'add' | 'merge'>,
    private readonly gapOf: (value: IN) => number,
  ) {
    for (let group = table.range.start; group <= table.range.end; group++)
      for (const [key, latest] of table.entries(group))
        for (let s: Session<ACC> | undefined = latest; s !== undefined; s = s.previous)
          this.index.add(s.indexedAt, key as Key, group)
  }

  /**
   * Declares the session state on `backend` and opens it, with the sessions of a checkpoint written by
   * the general merging path (its states named in `general`) moved in.
   *
   * @example
   * const sessions = EventTimeSessions.open(backend, { mergingWindows, contents }, windowTimers, contents, gapOf)
   */
  static open<IN, ACC>(
    backend: KeyedStateBackend,
    general: { readonly mergingWindows: string; readonly contents: string },
    timers: WindowTimers<TimeWindow>,
    contents: Pick<WindowContents<IN, ACC, unknown, never>, 'add' | 'merge'>,
    gapOf: (value: IN) => number,
  ): EventTimeSessions<IN, ACC> {
    backend.getState(new ValueStateDescriptor<Session<ACC>>(SESSIONS_STATE, { serializer: sessionsSerializer }))
    const table = backend.table(SESSIONS_STATE) as StateTable<Session<ACC>>
    adoptMergingWindowState(backend, general.mergingWindows, general.contents, table, timers)
    return new EventTimeSessions(table, contents, gapOf)
  }

  /**
   * Adds a record of `key`: merges its window into the sessions it touches, or opens a session. False
   * when the window is already late (ends at or before `watermark`) and touches no open session.
   */
  add(key: Key, group: number, value: IN, timestamp: number, watermark: number): boolean {
    const start = timestamp
    const end = timestamp + this.gapOf(value)
    const latest = this.table.get(key, group)
    if (latest === undefined) {
      if (end - 1 <= watermark) return false
      this.table.put(key, group, this.open(key, group, value, timestamp, start, end, undefined))
      return true
    }
    // The common cases first: the record falls in (or extends) the key's latest session, touching no
    // older one, or it opens a session after it.
    if (start >= latest.start && start <= latest.end) {
      if (end > latest.end) latest.end = end
      latest.contents = this.contents.add(latest.contents, value, timestamp)
      return true
    }
    if (start > latest.end) {
      if (end - 1 <= watermark) return false
      this.table.put(key, group, this.open(key, group, value, timestamp, start, end, latest))
      return true
    }
    return this.addBefore(key, group, latest, value, timestamp, start, end, watermark)
  }

  /** `add` of a record whose window starts before the key's latest session. */
  private addBefore(
    key: Key,
    group: number,
    latest: Session<ACC>,
    value: IN,
    timestamp: number,
    start: number,
    end: number,
    watermark: number,
  ): boolean {
    const sessions = sessionsOf(latest)
    // Sessions are sorted and neither overlap nor touch: the ones this window touches are consecutive.
    let last = sessions.length - 1
    while (last >= 0 && sessions[last]!.start > end) last--
    let first = last
    while (first >= 0 && sessions[first]!.end >= start) first--
    first++
    if (first > last) {
      if (end - 1 <= watermark) return false
      sessions.splice(first, 0, this.open(key, group, value, timestamp, start, end, undefined))
      this.table.put(key, group, linked(sessions)!)
      return true
    }
    // The earliest session keeps its entry in the index; the later ones' contents move into it.
    const target = sessions[first]!
    if (start < target.start) target.start = start
    const lastEnd = sessions[last]!.end
    target.end = Math.max(end, lastEnd)
    if (last > first) {
      for (let i = first + 1; i <= last; i++)
        target.contents = this.contents.merge(target.contents, sessions[i]!.contents)
      sessions.splice(first + 1, last - first)
    }
    target.contents = this.contents.add(target.contents, value, timestamp)
    this.table.put(key, group, linked(sessions)!)
    return true
  }

  /**
   * Fires, in order of their end, the sessions that end at or before `watermark`: `fire` runs with the
   * session already removed from the state.
   */
  fire(watermark: number, fire: (key: Key, group: number, session: Session<ACC>) => void): void {
    this.onFire = fire
    this.index.fire(watermark, this.fireDue)
  }

  private open(
    key: Key,
    group: number,
    value: IN,
    timestamp: number,
    start: number,
    end: number,
    previous: Session<ACC> | undefined,
  ): Session<ACC> {
    this.index.add(end - 1, key, group)
    return { start, end, contents: this.contents.add(undefined, value, timestamp), indexedAt: end - 1, previous }
  }

  /** The index entry of `key` at `time` is due: its sessions that end by then fire, grown ones move on. */
  private readonly fireDue = (time: number, key: Key, group: number): void => {
    const latest = this.table.get(key, group)
    if (latest === undefined) return
    if (latest.previous === undefined && latest.end - 1 <= time) {
      // The key's only session is due (a key that went quiet): the entry leaves the state whole.
      this.table.remove(key, group)
      this.onFire(key, group, latest)
      return
    }
    const sessions = sessionsOf(latest)
    let due = 0
    while (due < sessions.length && sessions[due]!.end - 1 <= time) due++
    const fired = sessions.splice(0, due)
    if (sessions.length === 0) this.table.remove(key, group)
    else {
      linked(sessions) // the latest session stays the key's entry; the oldest left links to none
      for (const session of sessions) {
        if (session.indexedAt > time) continue
        session.indexedAt = session.end - 1
        this.index.add(session.indexedAt, key, group)
      }
    }
    for (const session of fired) {
      session.previous = undefined
      this.onFire(key, group, session)
    }
  }
}

/** What the general merging path keeps per state window (`WindowOperator`'s contents entries). */
interface ContentsEntry {
  readonly window: { readonly id: string }
  readonly contents: unknown
}

/**
 * Moves the sessions of a checkpoint written by the general merging path (a merging window set, the
 * contents per state window, a timer per window) into the session state, and deletes their timers,
 * so the session path restores it as if it had written it.
 *
 * @example
 * adoptMergingWindowState(backend, 'sluice.window.merging-windows', 'sluice.window.contents', sessionsTable, windowTimers)
 */
function adoptMergingWindowState<ACC>(
  backend: KeyedStateBackend,
  mergingStateName: string,
  contentsStateName: string,
  sessions: StateTable<Session<ACC>>,
  timers: WindowTimers<TimeWindow>,
): void {
  const merging = backend.table(mergingStateName) as StateTable<[TimeWindow, TimeWindow][]> | undefined
  const contents = backend.table(contentsStateName) as StateTable<Map<string, ContentsEntry>> | undefined
  if (merging === undefined || contents === undefined || merging.size === 0) return
  for (let group = merging.range.start; group <= merging.range.end; group++) {
    for (const [key, pairs] of [...merging.entries(group)]) {
      backend.keyContext.set(key, group)
      const held = contents.get(key, group)
      const adopted: Session<ACC>[] = []
      for (const [window, stateWindow] of pairs) {
        const entry = held?.get(stateWindow.id)
        if (entry === undefined) continue
        adopted.push({
          start: window.start,
          end: window.end,
          contents: entry.contents as ACC,
          indexedAt: window.end - 1,
          previous: undefined,
        })
      }
      adopted.sort((a, b) => a.start - b.start)
      timers.dropAll('event-time')
      merging.remove(key, group)
      contents.remove(key, group)
      if (adopted.length > 0) sessions.put(key, group, linked(adopted)!)
    }
  }
}

/**
 * For the general merging path: refuses a checkpoint that holds sessions of the session path, which
 * it cannot take over, instead of losing them.
 *
 * @example
 * refuseSessionState(backend, 'window(EventTimeSessionWindows(1000))')
 */
export function refuseSessionState(backend: KeyedStateBackend, operator: string): void {
  if (!backend.unclaimedStates().includes(SESSIONS_STATE)) return
  backend.getState(new ValueStateDescriptor<Session<unknown>>(SESSIONS_STATE, { serializer: sessionsSerializer }))
  if (backend.table(SESSIONS_STATE)!.size === 0) return
  throw new StateError(
    'ERR_STATE_INCOMPATIBLE',
    `operator ${operator}: the checkpoint holds sessions of the default event-time trigger with no allowed lateness (state ${SESSIONS_STATE}); restore it with that trigger and lateness`,
  )
}
