import { ConfigError } from '../errors.js'
import type { OperatorOptions } from '../runtime/transformation.js'

const POLICIES = ['escalate', 'restart', 'resume']
const CHAINING = ['default', 'new-chain', 'never']

/**
 * Checks an operator's options when the job is built; the error names the operator and the option.
 *
 * @example
 * validateOperatorOptions('map', { parallelism: 0 }) // throws ConfigError: invalid option map.parallelism: 0 …
 */
export function validateOperatorOptions(operator: string, options: OperatorOptions): void {
  if (options === null || typeof options !== 'object')
    throw new ConfigError(`${operator} options`, options, 'an object')
  const { name, uid, parallelism, onError, chaining } = options
  if (name !== undefined && (typeof name !== 'string' || name === ''))
    throw new ConfigError(`${operator}.name`, name, 'a non-empty string')
  if (uid !== undefined && (typeof uid !== 'string' || uid === ''))
    throw new ConfigError(`${operator}.uid`, uid, 'a non-empty string')
  if (parallelism !== undefined && (!Number.isInteger(parallelism) || parallelism < 1)) {
    throw new ConfigError(`${operator}.parallelism`, parallelism, 'a whole number of at least 1')
  }
  if (onError !== undefined && !POLICIES.includes(onError))
    throw new ConfigError(`${operator}.onError`, onError, POLICIES.join(' | '))
  if (chaining !== undefined && !CHAINING.includes(chaining))
    throw new ConfigError(`${operator}.chaining`, chaining, CHAINING.join(' | '))
}

/**
 * Checks that a user function is a function, when the operator is created.
 *
 * @example
 * requireFunction('map', project)
 */
export function requireFunction(operator: string, fn: unknown, what = 'a function'): void {
  if (typeof fn !== 'function') throw new ConfigError(operator, fn, what)
}
