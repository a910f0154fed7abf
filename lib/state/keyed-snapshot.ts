import { StateError } from '../errors.js'
import type { TimerService } from '../time/timer-service.js'
import type { AnyStateDescriptor } from './descriptors.js'
import type { KeyedStateBackend } from './keyed-state-backend.js'
import { decodeKey, encodeKey } from './key-codec.js'
import { jsonSerializer } from './serializers/json-serializer.js'
import type { StateTable } from './state-table.js'

/** One key group of one operator subtask, as written into a checkpoint. */
export interface KeyGroupSection {
  /**
   * Per state name a flat array `[key, value, key, value, …]` (with a TTL: `[key, value, touchedAt, …]`),
   * keys and values serialized. Flat, because V8 writes one large array far faster than many small ones.
   */
  readonly states: Record<string, unknown[]>
  /** [timestamp, key] of the group's event-time and processing-time timers. */
  readonly eventTimers: unknown[][]
  readonly processingTimers: unknown[][]
}

/** The keyed state of one operator subtask in a checkpoint, by key group. */
export interface KeyedStateSnapshot {
  readonly format: 1
  /** Per state name: its kind and the serializer (id, version) that wrote its values. */
  readonly states: Record<string, { kind: string; serializer: string; version: number; ttl: boolean }>
  /**
   * Per key group its section: as JSON text when just written (each group is serialized during the
   * snapshot's steps, so storing the state is a concatenation), as objects when read back.
   */
  readonly groups: Record<number, KeyGroupSection | string>
}

/** Milliseconds a snapshot may spend writing groups on their first change before it uses overlays (default). */
const TOUCH_BUDGET_MS = 50

/**
 * Writes a keyed state backend into a {@link KeyedStateSnapshot} without stalling processing for long:
 * a group that a record is about to change is written at once while the touch budget (50 ms) lasts,
 * then the tables keep barrier-time values of what records change (copy on write, per entry), and
 * `step` serializes the remaining key groups a few at a time between batches. Timers are copied when
 * it begins.
 *
 * @example
 * const writer = new KeyedSnapshotWriter(backend, timers)
 * while (!writer.step(4)) await nextTurn()
 * const snapshot = writer.result()
 */
export class KeyedSnapshotWriter {
  private readonly tables: Array<[AnyStateDescriptor, StateTable<unknown>]>
  private readonly groups: Record<number, string> = {}
  private readonly timersByGroup = new Map<number, { event: unknown[][]; processing: unknown[][] }>()
  private next = 0
  private released = false
  /** Groups written so far (by `step` or on their first change). */
  private readonly written: Uint8Array
  private touchMs = 0

  /** `touchBudgetMs`: how long writing groups on their first change may take in all (default 50 ms). */
  constructor(
    private readonly backend: KeyedStateBackend,
    timers: TimerService | undefined,
    private readonly touchBudgetMs = TOUCH_BUDGET_MS,
  ) {
    this.tables = backend.descriptors().map((d) => [d, backend.table(d.name)!])
    this.written = new Uint8Array(backend.range.size)
    for (const [, table] of this.tables) table.beginSnapshot((index) => this.writeOnTouch(index))
    if (timers !== undefined) {
      for (const t of timers.eventTimers.values())
        this.timerGroup(t.keyGroup).event.push([t.timestamp, encodeKey(t.key)])
      for (const t of timers.processingTimers.values())
        this.timerGroup(t.keyGroup).processing.push([t.timestamp, encodeKey(t.key)])
    }
  }

  /** Serializes key groups for about `budgetMs`; true when all are written. */
  step(budgetMs: number): boolean {
    const deadline = performance.now() + budgetMs
    const size = this.backend.range.size
    while (this.next < size && performance.now() < deadline) {
      if (this.written[this.next] === 0) this.writeGroup(this.next)
      this.next++
    }
    if (this.next === size) this.release()
    return this.next === size
  }

  result(): KeyedStateSnapshot {
    if (this.next < this.backend.range.size) throw new Error('keyed snapshot not finished')
    const states: KeyedStateSnapshot['states'] = {}
    for (const [d] of this.tables)
      states[d.name] = {
        kind: d.kind,
        serializer: d.serializer.id,
        version: d.serializer.version,
        ttl: d.ttl !== undefined,
      }
    return { format: 1, states, groups: this.groups }
  }

  /** Ends copy-on-write in the tables (the snapshot is written, or abandoned). */
  release(): void {
    if (this.released) return
    this.released = true
    for (const [, table] of this.tables) table.endSnapshot()
  }

  /**
   * A group not yet written is about to change: write it now while the snapshot's touch budget lasts.
   * Writing a group costs less than keeping each changed entry in an overlay (about 40 ms per million
   * entries against 250 ns per changed entry); the budget bounds the stall when the state is large.
   */
  private writeOnTouch(index: number): boolean {
    if (this.touchMs >= this.touchBudgetMs) return false
    const start = performance.now()
    this.writeGroup(index)
    this.touchMs += performance.now() - start
    return true
  }

  private writeGroup(index: number): void {
    this.written[index] = 1
    const keyGroup = this.backend.range.start + index
    const states: Record<string, unknown[]> = {}
    let any = false
    for (const [descriptor, table] of this.tables) {
      const entries = flatten(table, index, descriptor)
      if (entries.length === 0) continue
      states[descriptor.name] = entries
      any = true
    }
    const timers = this.timersByGroup.get(keyGroup)
    if (any || timers !== undefined)
      this.groups[keyGroup] = JSON.stringify({
        states,
        eventTimers: timers?.event ?? [],
        processingTimers: timers?.processing ?? [],
      })
  }

  private timerGroup(keyGroup: number): { event: unknown[][]; processing: unknown[][] } {
    let group = this.timersByGroup.get(keyGroup)
    if (group === undefined) {
      group = { event: [], processing: [] }
      this.timersByGroup.set(keyGroup, group)
    }
    return group
  }
}

/**
 * Restores the key groups a backend owns from snapshots of any subtasks of an earlier run (any
 * parallelism): entries wait until the operator declares their state, then are decoded with its
 * serializer; timers are registered at once.
 *
 * @example
 * restoreKeyedState(backend, timers, snapshotsOfAllOldSubtasks)
 */
export function restoreKeyedState(
  backend: KeyedStateBackend,
  timers: TimerService | undefined,
  snapshots: readonly KeyedStateSnapshot[],
): void {
  const range = backend.range
  for (const snapshot of snapshots) {
    for (const [groupText, stored] of Object.entries(snapshot.groups)) {
      const keyGroup = Number(groupText)
      if (!range.contains(keyGroup)) continue
      const section: KeyGroupSection = typeof stored === 'string' ? JSON.parse(stored) : stored
      for (const [name, entries] of Object.entries(section.states)) {
        const meta = snapshot.states[name]
        if (meta === undefined)
          throw new StateError('ERR_STATE_CORRUPT', `snapshot has entries of undeclared state ${name}`)
        backend.stageRestore(name, meta, keyGroup, entries as unknown[])
      }
      if (timers !== undefined) {
        for (const [ts, key] of section.eventTimers) timers.restoreEventTimer(ts as number, decodeKey(key), keyGroup)
        for (const [ts, key] of section.processingTimers)
          timers.restoreProcessingTimer(ts as number, decodeKey(key), keyGroup)
      }
    }
  }
}

/**
 * `[key, value, key, value …]` (with a TTL, touched-at times too) of one group; primitives skip the
 * serializer. Built with `push`: a presized array is holey, and JSON.stringify writes holey arrays
 * about three times slower.
 */
function flatten(table: StateTable<unknown>, index: number, descriptor: AnyStateDescriptor): unknown[] {
  const out: unknown[] = []
  const serializer = descriptor.serializer
  const plainJson = serializer === jsonSerializer
  if (descriptor.ttl === undefined) {
    table.forEachForSnapshot(index, (key, value) => {
      out.push(
        typeof key === 'bigint' ? encodeKey(key) : key,
        plainJson && isPlain(value) ? value : serializer.serialize(value),
      )
    })
  } else {
    table.forEachForSnapshot(index, (key, stored) => {
      const entry = stored as { value: unknown; touchedAt: number }
      out.push(
        typeof key === 'bigint' ? encodeKey(key) : key,
        plainJson && isPlain(entry.value) ? entry.value : serializer.serialize(entry.value),
        entry.touchedAt,
      )
    })
  }
  return out
}

function isPlain(value: unknown): boolean {
  return (
    typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
  )
}
