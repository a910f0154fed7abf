import { ConfigError } from '../errors.js'
import { optionKeys, optionsObject } from '../util/options.js'
import type { OutputTag } from '../runtime/output-tag.js'
import type { Evictor } from './evictors/evictor.js'
import type { Trigger } from './triggers/trigger.js'
import type { Window } from './window.js'

/** Options of `window(assigner, options)`. */
export interface WindowOptions<T, W extends Window = Window> {
  /** When windows fire; default the assigner's (event-time, processing-time, or never for global windows). */
  trigger?: Trigger<T, W>
  /** Removes records from a window around each firing; makes the window keep every record. */
  evictor?: Evictor<T, W>
  /**
   * How long after its end an event-time window still takes late records, in ms of event time; each such
   * record fires the window again (a late firing). Default 0. Processing-time windows ignore it.
   */
  allowedLatenessMs?: number
  /** Where records later than the allowed lateness go; without it they are dropped and counted. */
  lateOutput?: OutputTag<T>
}

const WINDOW_OPTIONS = optionKeys<WindowOptions<unknown>>({
  trigger: true,
  evictor: true,
  allowedLatenessMs: true,
  lateOutput: true,
})

/**
 * Checks window options when the job is built; the error names the option, and an unknown one fails
 * suggesting the closest.
 *
 * @example
 * validateWindowOptions({ allowedLatenessMs: -1 }) // throws ConfigError: invalid option window.allowedLatenessMs: -1 …
 */
export function validateWindowOptions(options: WindowOptions<any, any>): void {
  if (options === null || typeof options !== 'object') throw new ConfigError('window options', options, 'an object')
  optionsObject('window', options, WINDOW_OPTIONS)
  const { trigger, evictor, allowedLatenessMs, lateOutput } = options
  if (
    trigger !== undefined &&
    ['onElement', 'onEventTime', 'onProcessingTime', 'clear'].some(
      (m) => typeof (trigger as unknown as Record<string, unknown>)[m] !== 'function',
    )
  ) {
    throw new ConfigError(
      'window.trigger',
      trigger,
      'a Trigger with onElement, onEventTime, onProcessingTime and clear',
    )
  }
  if (
    evictor !== undefined &&
    (typeof evictor?.evictBefore !== 'function' || typeof evictor.evictAfter !== 'function')
  ) {
    throw new ConfigError('window.evictor', evictor, 'an Evictor with evictBefore and evictAfter')
  }
  if (allowedLatenessMs !== undefined && !(Number.isFinite(allowedLatenessMs) && allowedLatenessMs >= 0)) {
    throw new ConfigError('window.allowedLatenessMs', allowedLatenessMs, 'a number of milliseconds of at least 0')
  }
  if (lateOutput !== undefined && typeof lateOutput?.id !== 'string')
    throw new ConfigError('window.lateOutput', lateOutput, 'an OutputTag')
}
