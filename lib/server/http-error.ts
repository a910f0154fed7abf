import { SluiceError } from '../errors.js'

/**
 * A request the job server refuses: `status` is the HTTP status, `code` the JSON error code, and the
 * message is safe to show the client (it names no internals and no credential).
 *
 * @example
 * throw new HttpError(404, 'ERR_UNKNOWN_JOB', `no job ${id} in this process`)
 */
export class HttpError extends SluiceError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    /** Seconds after which asking again may succeed (a `Retry-After` header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(code, message, { retriable: retryAfterSeconds !== undefined })
  }
}
