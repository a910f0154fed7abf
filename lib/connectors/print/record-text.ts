/**
 * A record as one line of text, the way print() and writeAsText show it: strings as they are, objects
 * and arrays as JSON (bigints as their digits), everything else through `String`. A value JSON cannot
 * express (a cycle) falls back to `String` rather than failing the sink.
 *
 * @example
 * recordText('hello')     // 'hello'
 * recordText({ word: 'a', count: 2 }) // '{"word":"a","count":2}'
 * recordText(42n)         // '42'
 */
export function recordText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || typeof value !== 'object') return String(value)
  try {
    return JSON.stringify(value, bigintAsDigits) ?? String(value)
  } catch {
    return String(value)
  }
}

function bigintAsDigits(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}
