import type { FaultPlan } from './fault-injection.js'

/**
 * Verdicts on the committed output of the fault jobs' keyed count: `x@key:n` for the n-th number x of
 * its key (`x % keys`).
 */

/** Counts of `values`, for multiset comparisons. */
export function multiset<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return counts
}

/** The verdict on the output of a keyed count. */
export interface CountCheck {
  /** Empty when the output is exact (exactly-once) or complete (at-least-once). */
  readonly problems: string[]
  readonly duplicates: number
  readonly missing: number
}

/**
 * Checks the committed output of the keyed count of 1..records by `x % keys`: for exactly-once every
 * x and every `key:n` (n = 1..that key's total) exactly once; for at-least-once each at least once.
 *
 * @example
 * checkCounts(ledger.committed, 3000, 10, 'exactly-once').problems // []
 */
export function checkCounts(
  committed: readonly string[],
  records: number,
  keys: number,
  mode: FaultPlan['mode'],
): CountCheck {
  const problems: string[] = []
  const xs = multiset<number>([])
  const keyCounts = multiset<string>([])
  for (const line of committed) {
    const at = line.indexOf('@')
    const x = Number(line.slice(0, at))
    xs.set(x, (xs.get(x) ?? 0) + 1)
    const kn = line.slice(at + 1)
    keyCounts.set(kn, (keyCounts.get(kn) ?? 0) + 1)
  }
  let duplicates = 0
  let missing = 0
  const missingXs: number[] = []
  const duplicateXs: number[] = []
  for (let x = 1; x <= records; x++) {
    const c = xs.get(x) ?? 0
    if (c === 0) {
      missing++
      if (missingXs.length < 10) missingXs.push(x)
    } else if (c > 1) {
      duplicates += c - 1
      if (duplicateXs.length < 10) duplicateXs.push(x)
    }
  }
  const unexpected = [...xs.keys()].filter((x) => !(Number.isInteger(x) && x >= 1 && x <= records))
  if (unexpected.length > 0)
    problems.push(`${unexpected.length} unexpected values, e.g. ${unexpected.slice(0, 5).join(', ')}`)
  if (missing > 0) problems.push(`${missing} of ${records} inputs missing, e.g. ${missingXs.join(', ')}`)
  if (mode === 'exactly-once' && duplicates > 0)
    problems.push(`${duplicates} duplicates, e.g. ${duplicateXs.join(', ')}`)
  for (let k = 0; k < keys; k++) {
    const expectedTotal = countOfKey(records, keys, k)
    for (let n = 1; n <= expectedTotal; n++) {
      const c = keyCounts.get(`${k}:${n}`) ?? 0
      if (c === 0) {
        problems.push(`key ${k}: count ${n} of ${expectedTotal} missing`)
        break
      }
      if (mode === 'exactly-once' && c > 1) {
        problems.push(`key ${k}: count ${n} emitted ${c} times`)
        break
      }
    }
    if (mode === 'exactly-once' && keyCounts.has(`${k}:${expectedTotal + 1}`))
      problems.push(`key ${k}: counted past its total ${expectedTotal}`)
  }
  return { problems, duplicates, missing }
}

/** How many of 1..records have `x % keys === key`. */
export function countOfKey(records: number, keys: number, key: number): number {
  return key === 0 ? Math.floor(records / keys) : Math.floor((records - key) / keys) + 1
}
