import { MAX_TIMESTAMP, type Window } from './window.js'

/**
 * The one window that holds every record of a key (Flink's GlobalWindow). It never ends, so only a
 * trigger that is not time-based (a count trigger) fires it; its results are stamped with
 * {@link MAX_TIMESTAMP}.
 *
 * @example
 * GlobalWindow.instance.maxTimestamp() === MAX_TIMESTAMP // true
 */
export class GlobalWindow implements Window {
  static readonly instance = new GlobalWindow()
  readonly id = 'global'

  private constructor() {}

  maxTimestamp(): number {
    return MAX_TIMESTAMP
  }

  toString(): string {
    return 'GlobalWindow'
  }
}
