import { StateError } from '../errors.js'
import { AggregatingState } from './aggregating-state.js'
import type {
  AggregatingStateDescriptor,
  AnyStateDescriptor,
  ListStateDescriptor,
  MapStateDescriptor,
  ReducingStateDescriptor,
  ValueStateDescriptor,
} from './descriptors.js'
import { KeyContext } from './key-context.js'
import { decodeKey } from './key-codec.js'
import type { Key, KeyGroupRange } from './key-groups.js'
import { ListState } from './list-state.js'
import { MapState } from './map-state.js'
import { ReducingState } from './reducing-state.js'
import { copyOf } from './serializers/serializer.js'
import { StateTable } from './state-table.js'
import { ValueState } from './value-state.js'

interface RegisteredState {
  descriptor: AnyStateDescriptor
  table: StateTable<unknown>
  state: unknown
}

/**
 * The keyed state of one operator subtask, held on the heap: one {@link StateTable} per declared state,
 * each split by key group over the range the subtask owns. The runtime sets the current key in
 * {@link KeyedStateBackend.keyContext} before each record and timer.
 *
 * @example
 * const backend = new KeyedStateBackend(KeyGroupRange.forSubtask(128, 1, 0), Date.now)
 * const count = backend.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0 }))
 * backend.keyContext.set('k', keyGroupOf('k', 128)); count.update(count.value()! + 1)
 */
export class KeyedStateBackend {
  readonly keyContext = new KeyContext()
  private readonly states = new Map<string, RegisteredState>()
  /** Restored entries of states the operator has not declared yet, by state name. */
  private readonly staged = new Map<string, { meta: StagedMeta; groups: Array<[number, unknown[]]> }>()

  /** The buffer of a stored snapshot, for the next snapshot to write into (see `KeyedSnapshotWriter.recycle`). */
  private spareBuffer: SharedArrayBuffer | undefined = undefined

  /** Called when a state is declared (queryable state registers itself here). */
  onDeclare: ((descriptor: AnyStateDescriptor, table: StateTable<unknown>) => void) | undefined = undefined

  constructor(
    readonly range: KeyGroupRange,
    private readonly clock: () => number,
  ) {}

  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T> {
    return this.register(
      descriptor,
      (table) => new ValueState(table as StateTable<T>, this.keyContext, descriptor.defaultValue),
    )
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.register(descriptor, (table) => new ListState(table as StateTable<T[]>, this.keyContext))
  }

  getMapState<UK, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV> {
    return this.register(descriptor, (table) => new MapState(table as StateTable<Map<UK, UV>>, this.keyContext))
  }

  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.register(
      descriptor,
      (table) => new ReducingState(table as StateTable<T>, this.keyContext, descriptor.reduce),
    )
  }

  getAggregatingState<IN, ACC, OUT>(
    descriptor: AggregatingStateDescriptor<IN, ACC, OUT>,
  ): AggregatingState<IN, ACC, OUT> {
    return this.register(
      descriptor,
      (table) => new AggregatingState(table as StateTable<ACC>, this.keyContext, descriptor.aggregate),
    )
  }

  /** The table behind a declared state, for snapshots and queryable state. */
  table(name: string): StateTable<unknown> | undefined {
    return this.states.get(name)?.table
  }

  /** The declared states, by name. */
  descriptors(): AnyStateDescriptor[] {
    return [...this.states.values()].map((s) => s.descriptor)
  }

  /** @internal The spare snapshot buffer, if any; the caller owns it from now on. */
  takeSpareBuffer(): SharedArrayBuffer | undefined {
    const spare = this.spareBuffer
    this.spareBuffer = undefined
    return spare
  }

  /** @internal Keeps a snapshot buffer that nothing reads any more for the next snapshot. */
  keepSpareBuffer(buffer: SharedArrayBuffer): void {
    this.spareBuffer = buffer
  }

  /** @internal Holds restored entries until the operator declares their state. */
  stageRestore(name: string, meta: StagedMeta, keyGroup: number, entries: unknown[]): void {
    let staged = this.staged.get(name)
    if (staged === undefined) {
      staged = { meta, groups: [] }
      this.staged.set(name, staged)
    }
    staged.groups.push([keyGroup, entries])
  }

  /** Names of restored states the operator has not declared (yet). */
  unclaimedStates(): string[] {
    return [...this.staged.keys()]
  }

  private register<S>(descriptor: AnyStateDescriptor, create: (table: StateTable<unknown>) => S): S {
    const known = this.states.get(descriptor.name)
    if (known !== undefined) {
      if (known.descriptor.kind !== descriptor.kind) {
        throw new StateError(
          'ERR_STATE_KIND',
          `state ${descriptor.name} is declared as ${known.descriptor.kind} state and again as ${descriptor.kind} state`,
        )
      }
      return known.state as S
    }
    const table = new StateTable<unknown>(this.range, descriptor.ttl, this.clock, copyOf(descriptor.serializer))
    this.applyStaged(descriptor, table)
    const state = create(table)
    this.states.set(descriptor.name, { descriptor, table, state })
    this.onDeclare?.(descriptor, table)
    return state
  }

  private applyStaged(descriptor: AnyStateDescriptor, table: StateTable<unknown>): void {
    const staged = this.staged.get(descriptor.name)
    if (staged === undefined) return
    this.staged.delete(descriptor.name)
    const { meta } = staged
    if (meta.kind !== descriptor.kind) {
      throw new StateError(
        'ERR_STATE_INCOMPATIBLE',
        `state ${descriptor.name} was checkpointed as ${meta.kind} state and is now declared as ${descriptor.kind} state`,
      )
    }
    const serializer = descriptor.serializer
    if (meta.serializer !== serializer.id) {
      throw new StateError(
        'ERR_STATE_INCOMPATIBLE',
        `state ${descriptor.name} was written by serializer ${meta.serializer} and is now declared with ${serializer.id}`,
      )
    }
    const now = this.clock()
    const stride = meta.ttl ? 3 : 2
    for (const [keyGroup, entries] of staged.groups) {
      for (let i = 0; i < entries.length; i += stride) {
        const value = serializer.deserialize(entries[i + 1], meta.version)
        const touchedAt = stride === 3 ? (entries[i + 2] as number) : now
        table.restoreEntry(
          decodeKey(entries[i] as Key),
          keyGroup,
          descriptor.ttl === undefined ? value : { value, touchedAt },
        )
      }
    }
  }
}

/** What a snapshot says of one state. */
export interface StagedMeta {
  readonly kind: string
  readonly serializer: string
  readonly version: number
  /** Entries carry a touched-at time: [key, value, touchedAt] triples. */
  readonly ttl: boolean
}
