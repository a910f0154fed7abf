/**
 * The index of a day, by UTC date: `prefix` + `yyyy.MM.dd` (Logstash's and Beats' naming), for
 * writing time-based indices from a record's event time.
 *
 * @example
 * dailyIndex('logs-', Date.UTC(2026, 11, 3, 23, 59)) // 'logs-2026.12.03'
 */
export function dailyIndex(prefix: string, epochMs: number): string {
  const date = new Date(epochMs)
  const month = String(date.getUTCMonth() + 1).padStart(2, '0')
  const day = String(date.getUTCDate()).padStart(2, '0')
  return `${prefix}${date.getUTCFullYear()}.${month}.${day}`
}
