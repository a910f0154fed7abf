/**
 * One CSV row (RFC 4180): fields joined by `fieldDelimiter`, ended by `rowDelimiter`. A field that
 * holds the field delimiter, a double quote, a CR or LF, or the row delimiter is enclosed in double
 * quotes with its quotes doubled; others are written bare. null and undefined are empty fields, Dates
 * ISO-8601, objects JSON, everything else `String`.
 *
 * @example
 * csvRow(['a', 'b,c', 'say "hi"', null, 3], ',', '\n') // 'a,"b,c","say ""hi""",,3\n'
 */
export function csvRow(fields: readonly unknown[], fieldDelimiter: string, rowDelimiter: string): string {
  let row = ''
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) row += fieldDelimiter
    row += csvField(fields[i], fieldDelimiter, rowDelimiter)
  }
  return row + rowDelimiter
}

/**
 * One CSV field, quoted when it must be.
 *
 * @example
 * csvField('line one\nline two', ',', '\n') // '"line one\nline two"'
 */
export function csvField(value: unknown, fieldDelimiter: string, rowDelimiter: string): string {
  const text = fieldText(value)
  const mustQuote =
    text.includes('"') ||
    text.includes('\n') ||
    text.includes('\r') ||
    text.includes(fieldDelimiter) ||
    text.includes(rowDelimiter)
  return mustQuote ? `"${text.replace(/"/g, '""')}"` : text
}

function fieldText(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? ''
    } catch {
      return String(value)
    }
  }
  return String(value)
}
