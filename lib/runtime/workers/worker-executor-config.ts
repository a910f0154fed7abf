import { DirectoryStorage } from '../../checkpoint/directory-storage.js'
import { ConfigError } from '../../errors.js'
import type { ResolvedConfig } from '../job-config.js'

/**
 * Refuses, when the job is built, what the worker executor cannot do yet: checkpoints kept in memory
 * (workers write their state to a DirectoryStorage themselves) and queryable state (lookups are not
 * routed to the workers).
 *
 * @example
 * checkWorkerExecutorConfig(env.config) // throws ConfigError naming checkpointing.storage
 */
export function checkWorkerExecutorConfig(config: ResolvedConfig): void {
  const checkpointing = config.checkpointing
  if (checkpointing !== undefined && !(checkpointing.storage instanceof DirectoryStorage))
    throw new ConfigError(
      'checkpointing.storage',
      checkpointing.storage,
      "a DirectoryStorage with executor kind 'workers': worker threads write their state themselves",
    )
  if (config.queryableState !== undefined)
    throw new ConfigError('queryableState', config.queryableState, "no queryable state with executor kind 'workers'")
}
