import { GlobalWindow } from '../global-window.js'
import { NeverTrigger } from '../triggers/never-trigger.js'
import type { Trigger } from '../triggers/trigger.js'
import type { WindowAssigner } from '../window-assigner.js'

const WINDOWS: readonly GlobalWindow[] = [GlobalWindow.instance]

/**
 * One window per key that holds every record (Flink's GlobalWindows). Its default trigger never fires:
 * give it a trigger, as `countWindow` does with a count trigger.
 *
 * @example
 * orders.pipe(keyBy((o) => o.customer), window(globalWindows(), { trigger: PurgingTrigger.of(CountTrigger.of(10)) }), reduce(merge))
 */
export function globalWindows(): WindowAssigner<unknown, GlobalWindow> {
  return GLOBAL
}

const GLOBAL: WindowAssigner<unknown, GlobalWindow> = {
  name: 'GlobalWindows',
  timeDomain: undefined,
  assignWindows: () => WINDOWS,
  defaultTrigger: (): Trigger<unknown, GlobalWindow> => NeverTrigger.create(),
}
