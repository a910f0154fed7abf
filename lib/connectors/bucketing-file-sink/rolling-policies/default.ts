import { ConfigError } from '../../../errors.js'
import type { PartFileInfo, RollingPolicy } from '../rolling-policy.js'

/** Options of {@link DefaultRollingPolicy}. */
export interface DefaultRollingPolicyOptions {
  /** Roll once a part holds this many bytes: default 128 MiB, as Flink. */
  partSizeBytes?: number
  /** Roll a part this long after it was started (processing time): default 60 000 ms. */
  rolloverIntervalMs?: number
  /** Roll a part that has received nothing for this long (processing time): default 60 000 ms. */
  inactivityIntervalMs?: number
}

/**
 * Rolls a part file when it reaches `partSizeBytes`, when it is `rolloverIntervalMs` old, or when it has
 * been idle for `inactivityIntervalMs` (Flink's DefaultRollingPolicy), and on every checkpoint. The size
 * is checked before each record, so a part ends at least `partSizeBytes` long and short of that plus one
 * record (for text other than ASCII, see {@link PartFileInfo.size}: up to twice `writeBufferBytes` later). Times are processing time, checked on each write and by the sink's periodic bucket check
 * (`bucketCheckIntervalMs`), so an idle part closes at most that much later than its interval says.
 *
 * @example
 * bucketingFileSink('/data/out', { rollingPolicy: new DefaultRollingPolicy({ partSizeBytes: 1 << 20, rolloverIntervalMs: 15 * 60_000 }) })
 */
export class DefaultRollingPolicy implements RollingPolicy {
  readonly name = 'default'
  readonly rollsOnProcessingTime = true
  readonly partSizeBytes: number
  readonly rolloverIntervalMs: number
  readonly inactivityIntervalMs: number

  constructor(options: DefaultRollingPolicyOptions = {}) {
    if (options === null || typeof options !== 'object')
      throw new ConfigError('bucketingFileSink.rollingPolicy', options, 'an options object')
    this.partSizeBytes = positive('partSizeBytes', options.partSizeBytes, 128 * 1024 * 1024)
    this.rolloverIntervalMs = positive('rolloverIntervalMs', options.rolloverIntervalMs, 60_000)
    this.inactivityIntervalMs = positive('inactivityIntervalMs', options.inactivityIntervalMs, 60_000)
  }

  shouldRollOnEvent(part: PartFileInfo): boolean {
    return part.size >= this.partSizeBytes
  }

  shouldRollOnProcessingTime(part: PartFileInfo, now: number): boolean {
    return now - part.creationTime >= this.rolloverIntervalMs || now - part.lastUpdateTime >= this.inactivityIntervalMs
  }
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw new ConfigError(`bucketingFileSink.rollingPolicy.${name}`, value, 'a whole number of at least 1')
  return value
}
