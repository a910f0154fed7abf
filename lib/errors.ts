import { isSecretKey, REDACTED, redactingReplacer, redactText } from './util/redact.js'

/**
 * The typed error hierarchy. Every error sluice throws is a {@link SluiceError} with a stable `code`,
 * a `retriable` flag and an optional `cause`; code branches on `code`, never on message text. The
 * message is redacted here (URL user info, credential values), so no caller needs to.
 *
 * @example
 * try { env.fromCollection([]).pipe(map(null as any)) }
 * catch (e) { if (e instanceof SluiceError && e.code === 'ERR_CONFIG') console.error(e.message) }
 */
export class SluiceError extends Error {
  readonly code: string
  readonly retriable: boolean

  constructor(code: string, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(redactText(message), options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.retriable = options.retriable ?? false
  }
}

/**
 * An option had a bad value; thrown when the job is built, naming the option and the value. The value
 * of a credential option (`…password`, `…sasl`, `…token`) is never printed, and `value` is not
 * enumerable, so inspecting the error does not print it either.
 *
 * @example
 * throw new ConfigError('parallelism', 0, 'a whole number of at least 1')
 */
export class ConfigError extends SluiceError {
  readonly option: string
  declare readonly value: unknown

  constructor(option: string, value: unknown, expected: string) {
    const shown = isSecretKey(option.slice(option.lastIndexOf('.') + 1)) ? REDACTED : describeValue(value)
    super('ERR_CONFIG', `invalid option ${option}: ${shown} (expected ${expected})`)
    this.option = option
    Object.defineProperty(this, 'value', { value, enumerable: false })
  }
}

/**
 * A user function threw while processing a record. Names the operator, the subtask and the record.
 *
 * @example
 * new UserFunctionError('map', 0, { id: 1 }, new Error('boom')).message
 * // "operator map (subtask 0) failed on record {"id":1}: boom"
 */
export class UserFunctionError extends SluiceError {
  readonly operator: string
  readonly subtask: number
  readonly record: string
  /** The failing operator asked for a restart from the latest checkpoint (its error policy is `restart`). */
  readonly restartRequested: boolean

  constructor(operator: string, subtask: number, record: unknown, cause: unknown, restartRequested = false) {
    const text = describeValue(record)
    super(
      'ERR_USER_FUNCTION',
      `operator ${operator} (subtask ${subtask}) failed on record ${text}: ${messageOf(cause)}`,
      { cause, retriable: restartRequested },
    )
    this.operator = operator
    this.subtask = subtask
    this.record = text
    this.restartRequested = restartRequested
  }
}

/**
 * The pipeline is put together wrongly in a way only the data shows: an event-time window reached by
 * records without timestamps. Not a failure of a user function, so error policies (`resume`, `restart`)
 * do not apply: the job fails. Names the operator and subtask once.
 *
 * @example
 * new PipelineError('ERR_NO_TIMESTAMP', 'window(…)', 0, 'record 1 has no timestamp: …')
 */
export class PipelineError extends SluiceError {
  constructor(
    code: string,
    readonly operator: string,
    readonly subtask: number,
    problem: string,
  ) {
    super(code, `operator ${operator} (subtask ${subtask}): ${problem}`)
  }
}

/**
 * A failure in the actor runtime: an ask that timed out, a message to a stopped actor, an escalated failure.
 *
 * @example
 * new ActorError('ERR_ASK_TIMEOUT', 'ask to /user/a timed out after 100 ms', { retriable: true })
 */
export class ActorError extends SluiceError {}

/**
 * A failure of state or checkpoints: a corrupt snapshot, state no operator claims, a failed snapshot write.
 *
 * @example
 * new StateError('ERR_STATE_UNCLAIMED', 'state of uid "counter" is claimed by no operator')
 */
export class StateError extends SluiceError {}

/**
 * A connector could not reach or talk to its external system.
 *
 * @example
 * new ConnectorError('ERR_CONNECT', 'socket 127.0.0.1:9999 unreachable after 5 attempts', { retriable: true })
 */
export class ConnectorError extends SluiceError {}

/**
 * A record could not be decoded; carried to the dead-letter output together with the raw input.
 *
 * @example
 * new DecodeError('line 3 is not JSON: Unexpected token', '{oops')
 */
export class DecodeError extends SluiceError {
  readonly raw: unknown

  constructor(reason: string, raw: unknown, cause?: unknown) {
    super('ERR_DECODE', reason, { cause })
    this.raw = raw
  }
}

/** The job was cancelled by its handle. */
export class CancelledError extends SluiceError {
  constructor(message = 'job cancelled') {
    super('ERR_CANCELLED', message)
  }
}

const MAX_RECORD_TEXT = 200

/**
 * A short, printable description of any value, truncated to 200 characters, for error messages:
 * credentials redacted, functions (also inside objects) as `[function name]`.
 *
 * @example
 * describeValue({ a: 1 }) // '{"a":1}'
 * describeValue({ url: 'mqtt://alice:secret@h', password: 'x' }) // '{"url":"mqtt://[redacted]@h","password":"[redacted]"}'
 */
export function describeValue(value: unknown): string {
  let text: string
  if (typeof value === 'string') text = redactText(JSON.stringify(value))
  else if (typeof value === 'bigint') text = `${value}n`
  else if (typeof value === 'function') text = `[function ${value.name || 'anonymous'}]`
  else {
    try {
      text = JSON.stringify(value, redactingReplacer) ?? String(value)
      // an instance whose behaviour is all on its prototype (a Trigger, a Source) says what it is
      const name = (value as object | null)?.constructor?.name
      if (text === '{}' && name !== undefined && name !== 'Object') text = `[${name}]`
    } catch {
      text = redactText(String(value))
    }
  }
  return text.length > MAX_RECORD_TEXT ? `${text.slice(0, MAX_RECORD_TEXT)}…` : text
}

/**
 * The message of anything thrown.
 *
 * @example
 * messageOf(new Error('x')) // 'x'
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
