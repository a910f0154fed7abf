import { ConfigError } from '../errors.js'
import { booleanOption, oneOf, optionKeys, optionsObject } from '../util/options.js'
import type { CheckpointStorage } from './checkpoint-storage.js'

/** Settings of periodic checkpoints; `intervalMs` turns them on. */
export interface CheckpointConfig {
  /** Time between the start of two checkpoints. */
  intervalMs: number
  /** 'exactly-once' (default) aligns barriers; 'at-least-once' does not, and may replay records after a restore. */
  mode?: 'exactly-once' | 'at-least-once'
  /** A checkpoint not complete after this long is aborted; default 60,000. */
  timeoutMs?: number
  /** Least time between the end of one checkpoint and the start of the next; default 0. */
  minPauseMs?: number
  /** Checkpoint failures in a row the job tolerates before it fails; default 0. */
  tolerableFailures?: number
  /**
   * Unaligned checkpoints (exactly-once only): barriers overtake records waiting in channels, and those
   * records become part of the checkpoint, so checkpoints complete quickly under heavy backpressure.
   * Restoring one needs the same parallelism. Default false.
   */
  unaligned?: boolean
  /** Where checkpoints go; default in memory. */
  storage?: CheckpointStorage
  /** Start from the storage's newest complete checkpoint if it has one; default true. */
  resume?: boolean
  /**
   * What a resuming job does when the storage holds completed checkpoints and none can be read (all
   * damaged): 'fail' (default, as Flink) fails the start naming each and why; 'start-fresh' logs that
   * and starts from empty state, so exactly-once sinks may write again what they committed before.
   */
  onUnreadableCheckpoints?: 'fail' | 'start-fresh'
}

/** Checkpoint settings with every default filled in. */
export type ResolvedCheckpointConfig = Required<Omit<CheckpointConfig, 'storage'>> & {
  storage: CheckpointStorage | undefined
}

const CHECKPOINT_OPTIONS = optionKeys<CheckpointConfig>({
  intervalMs: true,
  mode: true,
  timeoutMs: true,
  minPauseMs: true,
  tolerableFailures: true,
  unaligned: true,
  storage: true,
  resume: true,
  onUnreadableCheckpoints: true,
})

/**
 * Checks checkpoint settings, naming the option; an unknown one fails suggesting the closest.
 *
 * @example
 * resolveCheckpointConfig({ intervalMs: 0 }) // throws ConfigError: invalid option checkpointing.intervalMs: 0 …
 */
export function resolveCheckpointConfig(config: CheckpointConfig): ResolvedCheckpointConfig {
  const number = (field: string, value: unknown, min: number): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
      throw new ConfigError(`checkpointing.${field}`, value, `a number of at least ${min}`)
    return value
  }
  if (config === null || typeof config !== 'object')
    throw new ConfigError('checkpointing', config, 'an object with intervalMs')
  optionsObject('checkpointing', config, CHECKPOINT_OPTIONS)
  const mode = config.mode ?? 'exactly-once'
  if (mode !== 'exactly-once' && mode !== 'at-least-once')
    throw new ConfigError('checkpointing.mode', mode, "'exactly-once' | 'at-least-once'")
  if (config.unaligned !== undefined && typeof config.unaligned !== 'boolean')
    throw new ConfigError('checkpointing.unaligned', config.unaligned, 'true or false')
  if (config.unaligned === true && mode !== 'exactly-once')
    throw new ConfigError('checkpointing.unaligned', true, "mode 'exactly-once' (at-least-once does not align at all)")
  if (config.storage !== undefined && typeof config.storage?.writeState !== 'function')
    throw new ConfigError(
      'checkpointing.storage',
      config.storage,
      'a CheckpointStorage (MemoryStorage, DirectoryStorage)',
    )
  return {
    intervalMs: number('intervalMs', config.intervalMs, 1),
    mode,
    timeoutMs: number('timeoutMs', config.timeoutMs ?? 60_000, 1),
    minPauseMs: number('minPauseMs', config.minPauseMs ?? 0, 0),
    tolerableFailures: number('tolerableFailures', config.tolerableFailures ?? 0, 0),
    storage: config.storage,
    resume: booleanOption('checkpointing.resume', config.resume, true),
    unaligned: config.unaligned ?? false,
    onUnreadableCheckpoints: oneOf(
      'checkpointing.onUnreadableCheckpoints',
      config.onUnreadableCheckpoints,
      ['fail', 'start-fresh'],
      'fail',
    ),
  }
}
