import { revivedError, type TransferredError, transferError } from './transferred-error.js'

/** Marks an error that crosses threads inside a record, as its {@link TransferredError}. */
const MARK = '__sluiceError'

type Marked = { readonly [MARK]: TransferredError }

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function isMarked(value: unknown): value is Marked {
  return typeof value === 'object' && value !== null && MARK in value
}

/**
 * A record about to cross to another thread with the errors it holds (the record itself, or a field of
 * a plain object record: a dead letter's `DecodeError`) turned into plain data, so that the receiver
 * rebuilds each with its class, name, code and fields ({@link revivedRecord}): structured clone would
 * bring back a plain `Error` without them. The record itself when it holds no error.
 *
 * @example
 * const crossing = recordForCrossing(letter) // { ...letter, error: { __sluiceError: { name: 'DecodeError', … } } }
 */
export function recordForCrossing(value: unknown): unknown {
  if (value instanceof Error) return { [MARK]: transferError(value) }
  if (!isPlainObject(value)) return value
  let copy: Record<string, unknown> | undefined
  for (const key in value) {
    const field = value[key]
    if (field instanceof Error) {
      copy ??= { ...value }
      copy[key] = { [MARK]: transferError(field) }
    }
  }
  return copy ?? value
}

/**
 * On the receiving thread: the record {@link recordForCrossing} made, with its errors rebuilt (in place
 * for a plain object).
 *
 * @example
 * revivedRecord(message.value).error instanceof DecodeError // true when the sender's was
 */
export function revivedRecord(value: unknown): unknown {
  if (isMarked(value)) return revivedError(value[MARK])
  if (!isPlainObject(value)) return value
  for (const key in value) {
    const field = value[key]
    if (isMarked(field)) value[key] = revivedError(field[MARK])
  }
  return value
}

/**
 * Records about to cross to another thread, by {@link recordForCrossing}; undefined, copying nothing,
 * when no record holds an error (the receiver then has nothing to rebuild: {@link revivedErrors}).
 *
 * @example
 * const encoded = errorsForCrossing(batch.values); port.postMessage({ values: encoded ?? batch.values, errors: encoded !== undefined })
 */
export function errorsForCrossing(values: readonly unknown[]): unknown[] | undefined {
  let encoded: unknown[] | undefined
  for (let i = 0; i < values.length; i++) {
    const value = values[i]
    if (typeof value !== 'object' || value === null) continue
    const record = recordForCrossing(value)
    if (record === value) continue
    encoded ??= values.slice()
    encoded[i] = record
  }
  return encoded
}

/**
 * On the receiving thread: rebuilds in place the errors {@link errorsForCrossing} turned into data.
 *
 * @example
 * if (message.errors) revivedErrors(message.values)
 */
export function revivedErrors(values: unknown[]): void {
  for (let i = 0; i < values.length; i++) values[i] = revivedRecord(values[i])
}
