import { SluiceError, messageOf } from '../../errors.js'

/**
 * An async request failed on every attempt its retry strategy allows. It reaches the operator's error
 * policy as the cause of a UserFunctionError (which names the operator); its own cause is the last
 * attempt's error.
 *
 * @example
 * new AsyncRetriesExhaustedError('enrich', 3, new Error('503')).message
 * // 'failed after 3 attempts (retry.maxAttempts 3): 503'
 */
export class AsyncRetriesExhaustedError extends SluiceError {
  constructor(
    readonly operator: string,
    readonly attempts: number,
    lastError: unknown,
  ) {
    super(
      'ERR_ASYNC_RETRIES_EXHAUSTED',
      `failed after ${attempts} attempt${attempts === 1 ? '' : 's'} (retry.maxAttempts ${attempts}): ${messageOf(lastError)}`,
      { cause: lastError },
    )
  }
}
