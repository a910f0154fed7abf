import { ConfigError } from '../../errors.js'
import type { ResolvedConfig } from '../job-config.js'

/**
 * Refuses, when the job is built, what the worker executor cannot do yet: queryable state (lookups are
 * not routed to the workers).
 *
 * @example
 * checkWorkerExecutorConfig(env.config) // throws ConfigError naming queryableState
 */
export function checkWorkerExecutorConfig(config: ResolvedConfig): void {
  if (config.queryableState !== undefined)
    throw new ConfigError('queryableState', config.queryableState, "no queryable state with executor kind 'workers'")
}
