import { ConfigError } from '../../../errors.js'

/**
 * When a bucket's small part files are merged (Flink's FileCompactStrategy). With compaction on, a
 * checkpoint's closed parts stay hidden until their bucket is due; then they are merged into one part
 * file, which the next completed checkpoint makes visible while it deletes the sources. A bucket is due
 * on a pre-commit when its waiting parts reach `sizeThresholdBytes` together, when the oldest of them
 * has waited `checkpoints` checkpoints, when `maxFiles` parts wait, or at the end of input. At least one
 * of the three must be given. The price is latency: a record becomes visible only with its merged file.
 */
export interface CompactionOptions {
  /** Merge a bucket's waiting parts once they hold this many bytes together (as the encoder sized them). */
  sizeThresholdBytes?: number
  /** Merge a bucket's waiting parts at the latest on the `checkpoints`-th checkpoint since the oldest was closed. */
  checkpoints?: number
  /** Merge a bucket's waiting parts once there are this many of them. */
  maxFiles?: number
}

/** Compaction as the sink runs it: the limits it was given, Infinity for the others. */
export interface CompactionSettings {
  readonly sizeThresholdBytes: number
  readonly checkpoints: number
  readonly maxFiles: number
}

const KNOWN = ['sizeThresholdBytes', 'checkpoints', 'maxFiles']

/**
 * Checks the `compaction` option when the sink is built; a ConfigError names the option path.
 *
 * @example
 * resolveCompaction({ sizeThresholdBytes: 128 << 20, checkpoints: 10 }) // { sizeThresholdBytes: 134217728, checkpoints: 10, maxFiles: Infinity }
 */
export function resolveCompaction(options: CompactionOptions): CompactionSettings {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new ConfigError('bucketingFileSink.compaction', options, 'an options object such as { checkpoints: 5 }')
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key))
      throw new ConfigError(
        `bucketingFileSink.compaction.${key}`,
        (options as Record<string, unknown>)[key],
        `no such option (known: ${KNOWN.join(', ')})`,
      )
  }
  const limit = (name: keyof CompactionOptions): number => {
    const value = options[name]
    if (value === undefined) return Number.POSITIVE_INFINITY
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
      throw new ConfigError(`bucketingFileSink.compaction.${name}`, value, 'a whole number of at least 1')
    return value
  }
  const settings = {
    sizeThresholdBytes: limit('sizeThresholdBytes'),
    checkpoints: limit('checkpoints'),
    maxFiles: limit('maxFiles'),
  }
  if (Object.values(settings).every((v) => v === Number.POSITIVE_INFINITY))
    throw new ConfigError(
      'bucketingFileSink.compaction',
      options,
      'at least one of sizeThresholdBytes, checkpoints or maxFiles (else parts would wait for the end of input)',
    )
  return settings
}
