import { ConfigError } from '../errors.js'
import { type Logger, type LogLevel, createLogger, redactingLogger } from '../logging.js'
import { DEFAULT_MAX_PARALLELISM, validateParallelism } from '../state/key-groups.js'
import { type RestartStrategy, validateRestartStrategy } from '../runtime/restart-strategy.js'
import { optionKeys, optionsObject, wholeNumber } from '../util/options.js'
import { JobServer } from '../server/job-server.js'
import { type JobServerOptions, resolveJobServerOptions } from '../server/job-server-options.js'
import { type CheckpointConfig, resolveCheckpointConfig } from '../checkpoint/checkpoint-config.js'
import type { ResolvedConfig } from '../runtime/job-config.js'
import { type ExecutorConfig, resolveExecutor } from '../runtime/workers/executor-config.js'

/** The default of {@link EnvironmentConfig.bufferTimeoutMs}: p99 latency of a few ms at 100,000 records/s. */
const DEFAULT_BUFFER_TIMEOUT_MS = 5

/** Settings of a {@link StreamEnvironment}; every one has a default. */
export interface EnvironmentConfig {
  /** Subtasks per operator unless the operator says otherwise; default 1. */
  parallelism?: number
  /** Number of key groups: the most subtasks a keyed operator can ever have; default 128. */
  maxParallelism?: number
  /** Records per network batch between subtasks; default 512. */
  batchSize?: number
  /** Batches a channel may have in flight (its credits); default 4. In-flight records per channel ≤ batchSize × channelCredits. */
  channelCredits?: number
  /**
   * How long a busy subtask may hold a partly filled output batch, in ms (Flink's buffer timeout):
   * latency against throughput. 0 sends every record at once, in a batch of its own; default 5. An idle
   * subtask sends what it holds at once whatever this says.
   */
  bufferTimeoutMs?: number
  /** How often watermark generators emit, in ms of processing time; default 200. */
  autoWatermarkIntervalMs?: number
  /** What the job does when it fails; default { kind: 'none' }. */
  restartStrategy?: RestartStrategy
  /** Fuse forward-connected operators into one subtask; default true. */
  chaining?: boolean
  /** Structured log lines; default the SLUICE_LOG_LEVEL environment variable, else 'warn'. */
  logLevel?: LogLevel
  /** A logger of your own; what the job logs reaches it redacted (no URL user info, no credential values). */
  logger?: Logger
  /** Periodic checkpoints; off unless given. */
  checkpointing?: CheckpointConfig
  /** Start from this savepoint (or retained checkpoint `chk-<id>`) directory. */
  restoreFrom?: string
  /** Start even when the savepoint holds state of an operator uid that this job does not have. */
  allowNonRestoredState?: boolean
  /**
   * Serve the job (REST API, metrics, dashboard, queryable state): options for a job server of the
   * job's own (stopped with it), or a shared {@link JobServer}.
   */
  queryableState?: JobServerOptions | JobServer
  /**
   * Where `execute()` runs the subtasks: `{ kind: 'single-thread' }` (the default; also what the
   * SLUICE_EXECUTOR environment variable can change, with SLUICE_WORKER_THREADS for its threads) or
   * `{ kind: 'workers', threads }` (default: the cores of the machine). With workers, the entry module runs again in every worker thread and must
   * build the same job there; run side effects with `onCoordinator()` (docs/executors.md).
   */
  executor?: ExecutorConfig
}

const ENVIRONMENT_OPTIONS = optionKeys<EnvironmentConfig>({
  parallelism: true,
  maxParallelism: true,
  batchSize: true,
  channelCredits: true,
  bufferTimeoutMs: true,
  autoWatermarkIntervalMs: true,
  restartStrategy: true,
  chaining: true,
  logLevel: true,
  logger: true,
  checkpointing: true,
  restoreFrom: true,
  allowNonRestoredState: true,
  queryableState: true,
  executor: true,
})

/**
 * Fills in defaults and checks every setting; the error names the option and the bad value, and an
 * unknown option fails suggesting the closest known one.
 *
 * @example
 * resolveConfig({ parallelism: 4 }).batchSize // 512
 */
export function resolveConfig(config: EnvironmentConfig): ResolvedConfig {
  if (config === null || typeof config !== 'object') throw new ConfigError('environment config', config, 'an object')
  optionsObject('', config, ENVIRONMENT_OPTIONS)
  const parallelism = config.parallelism ?? 1
  const maxParallelism = config.maxParallelism ?? DEFAULT_MAX_PARALLELISM
  validateParallelism(parallelism, maxParallelism)
  const batchSize = positiveInteger('batchSize', config.batchSize ?? 512)
  const channelCredits = positiveInteger('channelCredits', config.channelCredits ?? 4)
  const bufferTimeoutMs = wholeNumber('bufferTimeoutMs', config.bufferTimeoutMs, DEFAULT_BUFFER_TIMEOUT_MS, 0)
  const autoWatermarkIntervalMs = positiveInteger('autoWatermarkIntervalMs', config.autoWatermarkIntervalMs ?? 200)
  const restartStrategy = validateRestartStrategy(config.restartStrategy ?? { kind: 'none' })
  if (config.allowNonRestoredState !== undefined && typeof config.allowNonRestoredState !== 'boolean')
    throw new ConfigError('allowNonRestoredState', config.allowNonRestoredState, 'true or false')
  if (config.chaining !== undefined && typeof config.chaining !== 'boolean')
    throw new ConfigError('chaining', config.chaining, 'true or false')
  const logger =
    config.logger === undefined
      ? createLogger(config.logLevel === undefined ? {} : { level: config.logLevel })
      : redactingLogger(config.logger)
  const checkpointing = config.checkpointing === undefined ? undefined : resolveCheckpointConfig(config.checkpointing)
  if (config.restoreFrom !== undefined && (typeof config.restoreFrom !== 'string' || config.restoreFrom === ''))
    throw new ConfigError('restoreFrom', config.restoreFrom, 'a savepoint directory')
  if (config.queryableState !== undefined && !(config.queryableState instanceof JobServer))
    resolveJobServerOptions(config.queryableState, 'queryableState')
  return {
    parallelism,
    maxParallelism,
    batchSize,
    channelCredits,
    bufferTimeoutMs,
    autoWatermarkIntervalMs,
    restartStrategy,
    chaining: config.chaining ?? true,
    logger,
    checkpointing,
    restoreFrom: config.restoreFrom,
    allowNonRestoredState: config.allowNonRestoredState ?? false,
    queryableState: config.queryableState,
    executor: resolveExecutor(config.executor),
  }
}

/**
 * Checks a whole number of at least 1 (or `min`), naming the option.
 *
 * @example
 * positiveInteger('batchSize', 0) // throws ConfigError: invalid option batchSize: 0 (expected a whole number of at least 1)
 */
export function positiveInteger(option: string, value: unknown, min = 1): number {
  if (!Number.isInteger(value) || (value as number) < min)
    throw new ConfigError(option, value, `a whole number of at least ${min}`)
  return value as number
}
