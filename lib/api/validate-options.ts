import { ConfigError } from '../errors.js'
import { optionKeys, optionsObject } from '../util/options.js'
import type { OperatorOptions } from '../runtime/transformation.js'

const POLICIES = ['escalate', 'restart', 'resume']
const CHAINING = ['default', 'new-chain', 'never']

const OPERATOR_OPTIONS = optionKeys<OperatorOptions>({
  name: true,
  uid: true,
  parallelism: true,
  onError: true,
  chaining: true,
})

/**
 * Checks an operator's options when the job is built; the error names the operator and the option. An
 * unknown option fails suggesting the closest of the operator options and `ownOptions`, the options the
 * operator took out before (its own, such as asyncMap's `timeoutMs`).
 *
 * @example
 * validateOperatorOptions('map', { parallelism: 0 }) // throws ConfigError: invalid option map.parallelism: 0 …
 * validateOperatorOptions('map', { paralelism: 2 }) // throws ConfigError: … map.paralelism … did you mean parallelism?
 */
export function validateOperatorOptions(
  operator: string,
  options: OperatorOptions,
  ownOptions: readonly string[] = [],
): void {
  if (options === null || typeof options !== 'object')
    throw new ConfigError(`${operator} options`, options, 'an object')
  optionsObject(operator, options, ownOptions.length === 0 ? OPERATOR_OPTIONS : [...OPERATOR_OPTIONS, ...ownOptions])
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
