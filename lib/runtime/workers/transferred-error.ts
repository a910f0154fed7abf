import {
  ActorError,
  CancelledError,
  ConfigError,
  ConnectorError,
  DecodeError,
  PipelineError,
  SluiceError,
  StateError,
  UserFunctionError,
} from '../../errors.js'

/** An error as it crosses from a worker thread to the coordinator: its class, fields and causes. */
export interface TransferredError {
  readonly name: string
  readonly message: string
  readonly stack: string | undefined
  /** Its own enumerable fields (code, retriable, operator, subtask, …), where structured clone can copy them. */
  readonly fields: Record<string, unknown>
  readonly cause: TransferredError | undefined
}

/** The classes a transferred error comes back as, by name; any other comes back as an Error. */
const CLASSES: Record<string, { prototype: Error }> = {
  SluiceError,
  ConfigError,
  UserFunctionError,
  PipelineError,
  ActorError,
  StateError,
  ConnectorError,
  DecodeError,
  CancelledError,
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
}

/**
 * An error as plain data that a worker thread can post: structured clone keeps neither an error's
 * class nor its own fields, and the job's failure (and its restart strategy, which looks at a
 * `UserFunctionError`'s restart request) must see the same error on both executors.
 *
 * @example
 * port.postMessage({ t: 'failed', error: transferError(error) })
 */
export function transferError(error: unknown, depth = 0): TransferredError {
  if (!(error instanceof Error))
    return { name: 'Error', message: String(error), stack: undefined, fields: {}, cause: undefined }
  const fields: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(error))
    if (
      key !== 'cause' &&
      (value === null || typeof value !== 'object' || Array.isArray(value)) &&
      typeof value !== 'function'
    )
      fields[key] = value
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    fields,
    cause: error.cause === undefined || depth >= 8 ? undefined : transferError(error.cause, depth + 1),
  }
}

/**
 * The error a worker posted, as an instance of its class again (without running its constructor),
 * with its fields, stack and causes.
 *
 * @example
 * revivedError(message.error) instanceof UserFunctionError // true when the worker's was
 */
export function revivedError(data: TransferredError): Error {
  const error = Object.create((CLASSES[data.name] ?? Error).prototype) as Error
  Object.assign(error, data.fields)
  Object.defineProperty(error, 'message', { value: data.message, writable: true, configurable: true })
  Object.defineProperty(error, 'name', { value: data.name, writable: true, configurable: true })
  Object.defineProperty(error, 'stack', { value: data.stack, writable: true, configurable: true })
  if (data.cause !== undefined)
    Object.defineProperty(error, 'cause', { value: revivedError(data.cause), writable: true, configurable: true })
  return error
}
