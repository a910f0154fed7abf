import * as assert from 'uvu/assert'
import { StateError } from '../../lib/errors.js'
import { type KeyedStateSnapshot, KeyedSnapshotWriter } from '../../lib/state/keyed-snapshot.js'
import type { ProcessWindowFunctionObject } from '../../lib/windows/process-window-function.js'
import type { TimeWindow } from '../../lib/windows/time-window.js'
import { EventTimeTrigger } from '../../lib/windows/triggers/event-time-trigger.js'
import type { Trigger } from '../../lib/windows/triggers/trigger.js'
import type { WindowAssigner } from '../../lib/windows/window-assigner.js'
import { windowContents } from '../../lib/windows/window-contents.js'
import { WindowOperator } from '../../lib/windows/window-operator.js'
import { storedAndReadBack } from '../support/stored-snapshot.js'
import { ManualClock } from '../time/manual-clock.js'
import { OperatorHarness } from './operator-harness.js'

/** Lists each fired window as `key[start,end) elements`, for comparing the window operator's paths. */
const listing: ProcessWindowFunctionObject<number, string, TimeWindow> = {
  process: (key, ctx, elements, out) =>
    out.collect(`${String(key)}[${ctx.window.start},${ctx.window.end}) ${elements.join(',')}`),
}

/**
 * The default trigger takes the operator's fast path (aligned windows, sessions); a copy of it (not the
 * shared instance) takes the general path.
 *
 * @example
 * const general = windowOperator(tumblingEventTimeWindows(10), generalTrigger())
 */
export function generalTrigger(): Trigger<number, TimeWindow> {
  return Object.create(EventTimeTrigger.create()) as Trigger<number, TimeWindow>
}

/**
 * A window operator over numbers that lists every window it fires ({@link listing}).
 *
 * @example
 * const op = windowOperator(eventTimeSessionWindows(10))
 */
export function windowOperator(
  assigner: WindowAssigner<number, TimeWindow>,
  trigger: Trigger<number, TimeWindow> = assigner.defaultTrigger(),
) {
  return new WindowOperator<number, number[], string, TimeWindow>({
    assigner,
    trigger,
    evictor: undefined,
    allowedLatenessMs: 0,
    lateOutput: undefined,
    contents: windowContents({ kind: 'process', process: listing }, undefined),
  })
}

/**
 * Entries the operator still keeps in keyed state and timers, over all keys.
 *
 * @example
 * assert.is(held(op), 0, 'every window fired and left nothing')
 */
export function held(op: WindowOperator<any, any, any, any>): number {
  const backend = op.keyedState!
  const state = backend.descriptors().reduce((n, d) => n + backend.table(d.name)!.size, 0)
  return state + op.timers!.eventTimers.size
}

/**
 * A checkpoint of the operator's keyed state and timers, stored and read back.
 *
 * @example
 * const snapshot = checkpoint(op); const again = restored(windowOperator(assigner), snapshot)
 */
export function checkpoint(op: WindowOperator<any, any, any, any>): KeyedStateSnapshot {
  const writer = new KeyedSnapshotWriter(op.keyedState!, op.timers)
  while (!writer.step(50));
  return storedAndReadBack(writer.result())
}

/**
 * A harness of `op` restored from `snapshot`.
 *
 * @example
 * const h = restored(windowOperator(assigner), checkpoint(op))
 */
export function restored(op: WindowOperator<any, any, any, any>, snapshot: KeyedStateSnapshot) {
  return OperatorHarness.keyed(op, new ManualClock(), { keyed: [snapshot], split: [], union: [] })
}

/**
 * What the harness's operator emitted, records of one window end (keys that share it, which Flink's
 * timers fire in no fixed order either) sorted among themselves: two paths of the operator compare equal.
 *
 * @example
 * assert.equal(inEndOrder(fast), inEndOrder(general))
 */
export function inEndOrder(h: OperatorHarness<number, string>): string[] {
  const out: string[] = []
  let tie: string[] = []
  let tieTime: number | undefined
  const flush = () => {
    out.push(...tie.sort())
    tie = []
  }
  for (const e of h.output.emitted) {
    if (e.kind !== 'record' || e.timestamp !== tieTime) flush()
    if (e.kind === 'record') {
      tieTime = e.timestamp
      tie.push(`${e.value}@${e.timestamp}`)
    } else {
      tieTime = undefined
      out.push(e.kind === 'watermark' ? `W${e.watermark}` : e.kind)
    }
  }
  flush()
  return out
}

/**
 * Asserts that a checkpoint of `assigner`'s fast path (its default trigger) refuses, by code, to restore
 * into the general path, naming its state `stateName`.
 *
 * @example
 * refusesGeneralRestore(tumblingEventTimeWindows(10), 'sluice.window.aligned')
 */
export function refusesGeneralRestore(assigner: WindowAssigner<number, TimeWindow>, stateName: string): void {
  const before = OperatorHarness.keyed(windowOperator(assigner))
  before.record(1, 0, 'a')
  const snapshot = checkpoint(before.operator as WindowOperator<any, any, any, any>)
  try {
    restored(windowOperator(assigner, generalTrigger()), snapshot)
    assert.unreachable('restored')
  } catch (error) {
    assert.instance(error, StateError)
    assert.is((error as StateError).code, 'ERR_STATE_INCOMPATIBLE')
    assert.match((error as Error).message, stateName)
  }
}
