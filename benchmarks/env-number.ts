/**
 * A whole number (≥ 0) from the environment variable `name`, `fallback` when it is unset, or an error
 * naming the variable: how a benchmark's child process reads its settings.
 *
 * @example
 * const records = envWholeNumber('CK_RECORDS', 4_000_000)
 */
export function envWholeNumber(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined) return fallback
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a whole number, got ${text}`)
  return n
}
