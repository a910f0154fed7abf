import * as assert from 'uvu/assert'
import { ConfigError } from '../../lib/errors.js'

/**
 * The ConfigError that `build` throws; fails the test when it throws nothing or something else.
 *
 * @example
 * assert.is(configError(() => rabbitmqSource({ queue: '' })).option, 'rabbitmqSource.queue')
 */
export function configError(build: () => unknown): ConfigError {
  try {
    build()
  } catch (error) {
    assert.instance(error, ConfigError)
    return error as ConfigError
  }
  throw new Error('expected a ConfigError')
}
