import type { ResolvedCheckpointConfig } from '../checkpoint/checkpoint-config.js'
import type { Logger } from '../logging.js'
import type { JobServer } from '../server/job-server.js'
import type { JobServerOptions } from '../server/job-server-options.js'
import type { RestartStrategy } from './restart-strategy.js'
import type { ResolvedExecutor } from './workers/executor-config.js'

/** The settled configuration: every default filled in and checked. */
export interface ResolvedConfig {
  readonly parallelism: number
  readonly maxParallelism: number
  readonly batchSize: number
  readonly channelCredits: number
  readonly bufferTimeoutMs: number
  readonly autoWatermarkIntervalMs: number
  readonly restartStrategy: RestartStrategy
  readonly chaining: boolean
  readonly logger: Logger
  readonly checkpointing: ResolvedCheckpointConfig | undefined
  readonly restoreFrom: string | undefined
  readonly allowNonRestoredState: boolean
  readonly queryableState: JobServerOptions | JobServer | undefined
  /** Where `execute()` runs the subtasks: this thread, or worker threads. */
  readonly executor: ResolvedExecutor
}
