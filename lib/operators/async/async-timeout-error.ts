import { SluiceError } from '../../errors.js'

/**
 * An async request did not complete within its operator's `timeoutMs` (retries included). Under the
 * `fail` timeout policy it reaches the operator's error policy as the cause of a UserFunctionError.
 *
 * @example
 * new AsyncTimeoutError('enrich', 50, 2).message // 'enrich: no result within 50 ms (2 attempts)'
 */
export class AsyncTimeoutError extends SluiceError {
  constructor(
    readonly operator: string,
    readonly timeoutMs: number,
    readonly attempts: number,
  ) {
    super(
      'ERR_ASYNC_TIMEOUT',
      `${operator}: no result within ${timeoutMs} ms (${attempts} attempt${attempts === 1 ? '' : 's'})`,
      { retriable: true },
    )
  }
}
