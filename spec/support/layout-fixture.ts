import {
  ListStateDescriptor,
  MapStateDescriptor,
  ValueStateDescriptor,
  type AnyStateDescriptor,
} from '../../lib/state/descriptors.js'
import { type Key, keyGroupOf } from '../../lib/state/key-groups.js'
import type { KeyedStateBackend } from '../../lib/state/keyed-state-backend.js'
import { TimerService } from '../../lib/time/timer-service.js'

/**
 * The keyed state of the layout fixture: every kind of key (int, fractional and negative numbers,
 * strings with non-ASCII text, bigint, boolean) and value (numbers, non-finite numbers, strings,
 * bigints, maps, lists under a TTL), and timers of both kinds. `spec/checkpoint/fixtures/json-layout`
 * holds it as the JSON layout (1) wrote it, from `fillLayoutFixture` run against sluice at commit
 * 5808b3d (before the binary layout); the specs fill it with today's code too, and expect the same
 * after a restore either way.
 */
export const fixtureStates = {
  count: new ValueStateDescriptor<number>('count'),
  names: new ValueStateDescriptor<string>('names'),
  big: new ValueStateDescriptor<bigint>('big'),
  visits: new MapStateDescriptor<string, number>('visits'),
  seen: new ListStateDescriptor<string>('seen', { ttl: { ttlMs: 1e12 } }),
} as const

/** The clock of the fixture's backends: TTL entries are touched at this time. */
export const FIXTURE_CLOCK = 1_000

/** Per state name, [key, value] of every entry the fixture holds. */
export function fixtureEntries(): Record<keyof typeof fixtureStates, Array<[Key, unknown]>> {
  const users = Array.from({ length: 20 }, (_, i) => `user-${i}`)
  return {
    count: [
      ...Array.from({ length: 200 }, (_, k): [Key, unknown] => [k, k * 10]),
      [-3.5, 1],
      [1e15 + 1, Number.POSITIVE_INFINITY],
    ],
    names: users.map((u, i): [Key, unknown] => [u, `Zoë ${i} — ☃`]),
    big: [
      [12345678901234567890n, 7n],
      [true, -1n],
    ],
    visits: users.map((u, i): [Key, unknown] => [
      u,
      new Map([
        ['/home', i],
        ['/cart', i * 2],
      ]),
    ]),
    seen: users.map((u, i): [Key, unknown] => [u, ['a', `b${i}`]]),
  }
}

/** [timestamp, key] of the fixture's event-time and processing-time timers. */
export function fixtureTimers(): { event: Array<[number, Key]>; processing: Array<[number, Key]> } {
  return {
    event: Array.from({ length: 10 }, (_, i): [number, Key] => [5_000 + i, `user-${i}`]),
    processing: [
      [9_000, 42],
      [9_001, 12345678901234567890n],
    ],
  }
}

/** A timer service that never fires (the fixture only stores and restores timers). */
export function fixtureTimerService(backend: KeyedStateBackend): TimerService {
  return new TimerService(
    backend.keyContext,
    { now: () => FIXTURE_CLOCK, scheduleAt: () => () => undefined },
    { onEventTime() {}, onProcessingTime() {} },
  )
}

/**
 * Writes the fixture's entries and timers into a backend owning every key group (128).
 *
 * @example
 * const backend = new KeyedStateBackend(new KeyGroupRange(0, 127), () => FIXTURE_CLOCK)
 * fillLayoutFixture(backend, fixtureTimerService(backend))
 */
export function fillLayoutFixture(backend: KeyedStateBackend, timers: TimerService): void {
  const entries = fixtureEntries()
  for (const name of Object.keys(fixtureStates) as Array<keyof typeof fixtureStates>) {
    const descriptor: AnyStateDescriptor = fixtureStates[name]
    for (const [key, value] of entries[name]) {
      backend.keyContext.set(key, keyGroupOf(key, 128))
      if (descriptor instanceof MapStateDescriptor) {
        const state = backend.getMapState(descriptor)
        for (const [k, v] of value as Map<string, number>) state.put(k, v)
      } else if (descriptor instanceof ListStateDescriptor) backend.getListState(descriptor).update(value as string[])
      else backend.getState(descriptor as ValueStateDescriptor<unknown>).update(value)
    }
  }
  const { event, processing } = fixtureTimers()
  for (const [timestamp, key] of event) timers.restoreEventTimer(timestamp, key, keyGroupOf(key, 128))
  for (const [timestamp, key] of processing) timers.restoreProcessingTimer(timestamp, key, keyGroupOf(key, 128))
}

/**
 * What a backend holds of the fixture after a restore: per state the entries of the keys in its range
 * (the shape of {@link fixtureEntries}), and its timers.
 *
 * @example
 * assert.equal(heldState(backend, timers).entries.count, expected.count)
 */
export function heldState(
  backend: KeyedStateBackend,
  timers: TimerService,
): {
  entries: Record<string, Array<[Key, unknown]>>
  timers: { event: Array<[number, Key]>; processing: Array<[number, Key]> }
} {
  const entries: Record<string, Array<[Key, unknown]>> = {}
  for (const [name, descriptor] of Object.entries(fixtureStates)) {
    if (descriptor instanceof MapStateDescriptor) backend.getMapState(descriptor)
    else if (descriptor instanceof ListStateDescriptor) backend.getListState(descriptor)
    else backend.getState(descriptor as ValueStateDescriptor<unknown>)
    const table = backend.table(name)!
    const held: Array<[Key, unknown]> = []
    for (let g = backend.range.start; g <= backend.range.end; g++)
      for (const entry of table.entries(g)) held.push(entry)
    entries[name] = held
  }
  return {
    entries,
    timers: {
      event: [...timers.eventTimers.values()].map((t): [number, Key] => [t.timestamp, t.key]),
      processing: [...timers.processingTimers.values()].map((t): [number, Key] => [t.timestamp, t.key]),
    },
  }
}
