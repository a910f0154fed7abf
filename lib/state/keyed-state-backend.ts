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
import type { KeyGroupRange } from './key-groups.js'
import { ListState } from './list-state.js'
import { MapState } from './map-state.js'
import { ReducingState } from './reducing-state.js'
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

  constructor(readonly range: KeyGroupRange, private readonly clock: () => number) {}

  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T> {
    return this.register(descriptor, (table) => new ValueState(table as StateTable<T>, this.keyContext, descriptor.defaultValue))
  }

  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T> {
    return this.register(descriptor, (table) => new ListState(table as StateTable<T[]>, this.keyContext))
  }

  getMapState<UK, UV>(descriptor: MapStateDescriptor<UK, UV>): MapState<UK, UV> {
    return this.register(descriptor, (table) => new MapState(table as StateTable<Map<UK, UV>>, this.keyContext))
  }

  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T> {
    return this.register(descriptor, (table) => new ReducingState(table as StateTable<T>, this.keyContext, descriptor.reduce))
  }

  getAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, ACC, OUT> {
    return this.register(descriptor, (table) => new AggregatingState(table as StateTable<ACC>, this.keyContext, descriptor.aggregate))
  }

  /** The table behind a declared state, for snapshots and queryable state. */
  table(name: string): StateTable<unknown> | undefined {
    return this.states.get(name)?.table
  }

  /** The declared states, by name. */
  descriptors(): AnyStateDescriptor[] {
    return [...this.states.values()].map((s) => s.descriptor)
  }

  private register<S>(descriptor: AnyStateDescriptor, create: (table: StateTable<unknown>) => S): S {
    const known = this.states.get(descriptor.name)
    if (known !== undefined) {
      if (known.descriptor.kind !== descriptor.kind) {
        throw new StateError('ERR_STATE_KIND', `state ${descriptor.name} is declared as ${known.descriptor.kind} state and again as ${descriptor.kind} state`)
      }
      return known.state as S
    }
    const table = new StateTable<unknown>(this.range, descriptor.ttl, this.clock)
    const state = create(table)
    this.states.set(descriptor.name, { descriptor, table, state })
    return state
  }
}
