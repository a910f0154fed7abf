import { StateError } from '../errors.js'
import type { TimerService } from '../time/timer-service.js'
import { BINARY_LAYOUT, BlockKind, isBinaryLayout } from './binary-layout.js'
import { readBlocks } from './block-reader.js'
import { BlockWriter } from './block-writer.js'
import type { AnyStateDescriptor } from './descriptors.js'
import type { KeyedStateBackend } from './keyed-state-backend.js'
import { decodeKey, encodeKey } from './key-codec.js'
import { jsonSerializer } from './serializers/json-serializer.js'
import type { StateTable } from './state-table.js'

/** One key group of one operator subtask, as written into a checkpoint (layout 1) or read back from one. */
export interface KeyGroupSection {
  /**
   * Per state name a flat array `[key, value, key, value, …]` (with a TTL: `[key, value, touchedAt, …]`),
   * keys and values serialized.
   */
  readonly states: Record<string, unknown[]>
  /** [timestamp, key] of the group's event-time and processing-time timers. */
  readonly eventTimers: unknown[][]
  readonly processingTimers: unknown[][]
}

/** Per state name: its kind and the serializer (id, version) that wrote its values. */
export type KeyedStateMeta = Record<string, { kind: string; serializer: string; version: number; ttl: boolean }>

/** Keyed state in layout 1, as checkpoints before the binary layout wrote it: JSON per key group. */
export interface JsonKeyedSnapshot {
  readonly format: 1
  readonly states: KeyedStateMeta
  /** Per key group its section: JSON text as the old writer kept it, objects when read back. */
  readonly groups: Record<number, KeyGroupSection | string>
}

/** Keyed state in the binary layout (see `binary-layout.ts`): every key group's blocks in one buffer. */
export interface BinaryKeyedSnapshot {
  /** 3, or 2 when read from a checkpoint written before int32 columns. */
  readonly format: typeof BINARY_LAYOUT | 2
  readonly states: KeyedStateMeta
  /** Per key group with state or timers: [offset, length] of its section in `data`. */
  readonly groups: Record<number, readonly [number, number]>
  /** The sections, 8-byte aligned; a view of a `SharedArrayBuffer` when just written. */
  readonly data: Uint8Array
}

/** The keyed state of one operator subtask in a checkpoint, by key group. */
export type KeyedStateSnapshot = JsonKeyedSnapshot | BinaryKeyedSnapshot

/** Milliseconds a snapshot may spend writing groups at once before it uses overlays (default). */
const AT_ONCE_BUDGET_MS = 50

/**
 * Writes a keyed state backend into a {@link BinaryKeyedSnapshot} without stalling processing for long:
 * it writes key groups at once for a budget (50 ms; a state of a million small entries takes about 20),
 * then the tables keep barrier-time values of what records change (copy on write, per entry) and `step`
 * serializes the remaining key groups a few at a time between batches. Timers are copied when
 * it begins. Each group is written straight into one buffer (see `binary-layout.ts`): numbers as float64
 * columns (int32 when every row is one), strings as UTF-8, other values as the JSON of what the state's serializer made of them.
 *
 * @example
 * const writer = new KeyedSnapshotWriter(backend, timers)
 * while (!writer.step(4)) await nextTurn()
 * const snapshot = writer.result()
 */
export class KeyedSnapshotWriter {
  private readonly tables: Array<[AnyStateDescriptor, StateTable<unknown>]>
  private readonly groups: Record<number, readonly [number, number]> = {}
  private readonly blocks: BlockWriter
  private readonly timersByGroup = new Map<number, { event: unknown[][]; processing: unknown[][] }>()
  private next = 0
  private released = false

  /** `atOnceBudgetMs`: how long it may write groups at once when it begins (default 50 ms). */
  constructor(
    private readonly backend: KeyedStateBackend,
    timers: TimerService | undefined,
    atOnceBudgetMs = AT_ONCE_BUDGET_MS,
  ) {
    this.tables = backend.descriptors().map((d) => [d, backend.table(d.name)!])
    let entries = 0
    for (const [d, table] of this.tables) entries += table.size * (d.ttl === undefined ? 2 : 3)
    // room for every entry as numbers; the buffer grows when strings or objects need more
    this.blocks = new BlockWriter(entries * 8 + backend.range.size * 64, backend.takeSpareBuffer())
    if (timers !== undefined) {
      for (const t of timers.eventTimers.values())
        this.timerGroup(t.keyGroup).event.push([t.timestamp, encodeKey(t.key)])
      for (const t of timers.processingTimers.values())
        this.timerGroup(t.keyGroup).processing.push([t.timestamp, encodeKey(t.key)])
    }
    // Writing a group costs less than keeping each changed entry in an overlay (about 20 ms per million
    // entries against 250 ns per changed entry), and a state written at once never enters copy on write:
    // the record path keeps the tables' plain `get` and `put` (once their guarded forms have run, V8
    // inlines those into the record path for good: case e at parallelism 1 ran a quarter slower after
    // its first checkpoint, when the groups were written on their first change).
    if (atOnceBudgetMs > 0) this.step(atOnceBudgetMs)
    if (this.next < backend.range.size) for (const [, table] of this.tables) table.beginSnapshot(this.next)
  }

  /** Serializes key groups for about `budgetMs`; true when all are written. */
  step(budgetMs: number): boolean {
    const deadline = performance.now() + budgetMs
    const size = this.backend.range.size
    while (this.next < size && performance.now() < deadline) {
      this.writeGroup(this.next++)
    }
    if (this.next === size) this.release()
    return this.next === size
  }

  result(): BinaryKeyedSnapshot {
    if (this.next < this.backend.range.size) throw new Error('keyed snapshot not finished')
    const states: KeyedStateSnapshot['states'] = {}
    for (const [d] of this.tables)
      states[d.name] = {
        kind: d.kind,
        serializer: d.serializer.id,
        version: d.serializer.version,
        ttl: d.ttl !== undefined,
      }
    return { format: BINARY_LAYOUT, states, groups: this.groups, data: this.blocks.bytes() }
  }

  /**
   * Gives the snapshot's buffer back to the backend for its next snapshot: call it once the storage has
   * finished with the result (its `writeState` settled), never before.
   */
  recycle(): void {
    this.backend.keepSpareBuffer(this.blocks.sharedBuffer())
  }

  /** Ends copy-on-write in the tables (the snapshot is written, or abandoned). */
  release(): void {
    if (this.released) return
    this.released = true
    for (const [, table] of this.tables) table.endSnapshot()
  }

  private writeGroup(index: number): void {
    const keyGroup = this.backend.range.start + index
    const blocks = this.blocks
    const start = blocks.length
    for (const [descriptor, table] of this.tables) writeState(blocks, table, index, descriptor)
    const timers = this.timersByGroup.get(keyGroup)
    if (timers !== undefined) {
      writeTimers(blocks, BlockKind.EVENT_TIMERS, timers.event)
      writeTimers(blocks, BlockKind.PROCESSING_TIMERS, timers.processing)
    }
    if (blocks.length > start) this.groups[keyGroup] = [start, blocks.length - start]
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
 * parallelism), in either layout: entries wait until the operator declares their state, then are
 * decoded with its serializer; timers are registered at once. A snapshot in a layout this build does
 * not know fails with ERR_SERIALIZER_VERSION naming its states and the layout version.
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
    for (const [keyGroup, section] of keyGroupSections(snapshot, (group) => range.contains(group))) {
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
 * The sections of a keyed snapshot's key groups that `wanted` accepts (all by default), decoded from
 * either layout.
 *
 * @example
 * for (const [keyGroup, section] of keyGroupSections(snapshot)) console.log(keyGroup, section.states.count)
 */
export function keyGroupSections(
  snapshot: KeyedStateSnapshot,
  wanted: (keyGroup: number) => boolean = () => true,
): Array<[number, KeyGroupSection]> {
  const format: number = snapshot.format
  if (format !== 1 && !isBinaryLayout(format))
    throw new StateError(
      'ERR_SERIALIZER_VERSION',
      `keyed state ${Object.keys(snapshot.states ?? {}).join(', ') || '(no states)'} was written in snapshot layout version ${format}; this build reads versions 1 (JSON), 2 and ${BINARY_LAYOUT} (binary)`,
    )
  const sections: Array<[number, KeyGroupSection]> = []
  for (const [groupText, stored] of Object.entries(snapshot.groups)) {
    const keyGroup = Number(groupText)
    if (!wanted(keyGroup)) continue
    if (snapshot.format !== 1) {
      const [offset, length] = stored as readonly [number, number]
      sections.push([keyGroup, readBlocks(snapshot.data, offset, length)])
    } else sections.push([keyGroup, typeof stored === 'string' ? JSON.parse(stored) : (stored as KeyGroupSection)])
  }
  return sections
}

/**
 * The entries of one state in group `index` as a block of `[key, value]` rows (with a TTL, touched-at
 * times too); primitives skip the JSON serializer, which would return them unchanged.
 */
function writeState(
  blocks: BlockWriter,
  table: StateTable<unknown>,
  index: number,
  descriptor: AnyStateDescriptor,
): void {
  const serializer = descriptor.serializer
  const plainJson = serializer === jsonSerializer
  if (descriptor.ttl === undefined) {
    blocks.begin(BlockKind.STATE, descriptor.name, 2)
    table.forEachForSnapshot(index, (value, key) => {
      if (typeof key === 'number' && typeof value === 'number' && plainJson && Number.isFinite(value))
        blocks.row2Numbers(key, value)
      else
        blocks.row2(
          typeof key === 'bigint' ? encodeKey(key) : key,
          plainJson && isPlain(value) ? value : serializer.serialize(value),
        )
    })
  } else {
    blocks.begin(BlockKind.STATE, descriptor.name, 3)
    table.forEachForSnapshot(index, (stored, key) => {
      const entry = stored as { value: unknown; touchedAt: number }
      blocks.row3(
        typeof key === 'bigint' ? encodeKey(key) : key,
        plainJson && isPlain(entry.value) ? entry.value : serializer.serialize(entry.value),
        entry.touchedAt,
      )
    })
  }
  blocks.end()
}

/** A group's timers of one kind as a block of `[timestamp, key]` rows. */
function writeTimers(blocks: BlockWriter, kind: number, timers: unknown[][]): void {
  blocks.begin(kind, '', 2)
  for (const [timestamp, key] of timers) blocks.row2(timestamp, key)
  blocks.end()
}

function isPlain(value: unknown): boolean {
  return (
    typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))
  )
}
