import type { AnyStateDescriptor } from '../state/descriptors.js'
import { type Key, type KeyGroupRange, keyGroupOf } from '../state/key-groups.js'
import type { StateTable } from '../state/state-table.js'
import type { OperatorChain } from '../runtime/operator-chain.js'

/** What a lookup found: whether the key has a value, and the value as the state's kind presents it. */
export interface StateAnswer {
  readonly found: boolean
  readonly value: unknown
}

/**
 * Reads one key of a queryable state inside its subtask (between batches) and resolves with the value;
 * rejects with ERR_ASK_TIMEOUT when the subtask does not get to it within `timeoutMs`.
 */
export type StateLookup = (key: Key, timeoutMs: number) => Promise<StateAnswer>

/**
 * A subtask serving a queryable state: the key groups it owns, and how to read a key there. A subtask
 * on the reader's own thread also reads at once (`readHere`), with no promise in between: the caller is
 * never inside one of the subtask's messages (the job server answers from its own event-loop callback),
 * so the read sees the state between two messages, as `lookup` does.
 */
export interface Served {
  readonly range: KeyGroupRange
  readonly maxParallelism: number
  readonly lookup: StateLookup
  /** Reads `key` now; throws ERR_SUBTASK_STOPPED once the subtask has stopped. Absent for a subtask on another thread. */
  readonly readHere?: (key: Key) => StateAnswer
}

/**
 * The queryable states of one job's current deployment: per state name, the subtasks serving it and
 * the key groups each owns. A deployment registers here as its operators declare queryable states;
 * a restart clears it, so queries answer "restarting" until the new deployment serves again. In a worker
 * thread, `announce` tells the coordinator of each state its subtasks declare.
 *
 * @example
 * registry.route('counts', 'user-1')?.lookup('user-1')
 */
export class QueryableRegistry {
  private readonly states = new Map<string, Served[]>()
  /** False between deployments (a restart) and after the job ended. */
  serving = false

  constructor(private readonly announce?: (name: string, served: Served) => void) {}

  register(name: string, served: Served): void {
    this.announce?.(name, served)
    let list = this.states.get(name)
    if (list === undefined) {
      list = []
      this.states.set(name, list)
    }
    list.push(served)
  }

  /** Forgets everything: a new deployment is coming (or none). */
  clear(): void {
    this.states.clear()
    this.serving = false
  }

  names(): string[] {
    return [...this.states.keys()].sort()
  }

  has(name: string): boolean {
    return this.states.has(name)
  }

  /** The subtask that owns `key`'s key group for state `name`, if it is being served. */
  route(name: string, key: Key): Served | undefined {
    const list = this.states.get(name)
    if (list === undefined || list.length === 0) return undefined
    const group = keyGroupOf(key, list[0]!.maxParallelism)
    return list.find((s) => s.range.contains(group))
  }
}

/**
 * Reads a key of a state table the way the state's kind presents it: a list as an array, a map as an
 * object of entries, an aggregating state as its result.
 *
 * @example
 * readQueryable(descriptor, table, 'user-1', 128) // { found: true, value: 42 }
 */
export function readQueryable(
  descriptor: AnyStateDescriptor,
  table: StateTable<unknown>,
  key: Key,
  maxParallelism: number,
): StateAnswer {
  const stored = table.get(key, keyGroupOf(key, maxParallelism))
  if (stored === undefined) return { found: false, value: undefined }
  switch (descriptor.kind) {
    case 'map':
      return { found: true, value: Object.fromEntries(stored as Map<unknown, unknown>) }
    case 'aggregating':
      return { found: true, value: descriptor.aggregate.getResult(stored) }
    default:
      return { found: true, value: stored }
  }
}

/**
 * Registers the queryable states of a chain as its operators declare them; `guard` runs a read on the
 * subtask's thread at once, or throws when the subtask has stopped. Each state is served both ways: a
 * read at once for the job server on this thread, and as a promise for the callers that need one.
 *
 * @example
 * serveQueryableStates(registry, chain, (read) => { if (stopped) throw gone(); return read() })
 */
export function serveQueryableStates(
  registry: QueryableRegistry,
  chain: OperatorChain,
  guard: <R>(read: () => R) => R,
): void {
  for (const node of chain.nodes) {
    const backend = chain.operators.get(node.id)?.keyedState
    if (backend === undefined) continue
    backend.onDeclare = (descriptor, table) => {
      if (descriptor.queryable === undefined) return
      const readHere = (key: Key): StateAnswer =>
        guard(() => readQueryable(descriptor, table, key, node.maxParallelism))
      registry.register(descriptor.queryable, {
        range: backend.range,
        maxParallelism: node.maxParallelism,
        readHere,
        // a throw in the executor rejects the promise
        lookup: (key) => new Promise((resolve) => resolve(readHere(key))),
      })
    }
  }
}
