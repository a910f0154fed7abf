import { ConfigError } from '../../errors.js'

type Field = 'y' | 'M' | 'd' | 'H' | 'm' | 's' | 'S'
type Token = { readonly text: string } | { readonly field: Field; readonly width: number }

/** Fields of an instant in a time zone. */
interface Fields {
  y: number
  M: number
  d: number
  H: number
  m: number
  s: number
  S: number
}

const FIELD_LETTERS = new Set<string>(['y', 'M', 'd', 'H', 'm', 's', 'S'])
/** Length of the unit each field counts, for the cache: an instant in the same unit formats the same. */
const UNIT_MS: Record<Field, number> = {
  y: 86_400_000,
  M: 86_400_000,
  d: 86_400_000,
  H: 3_600_000,
  m: 60_000,
  s: 1_000,
  S: 1,
}

/**
 * Formats instants with a subset of Java's DateTimeFormatter patterns, which Flink's DateTimeBucketAssigner
 * takes: `yyyy`/`yy` year, `MM`/`M` month, `dd`/`d` day, `HH`/`H` hour (0-23), `mm` minute, `ss` second,
 * `S`… fraction of the second (`SSS` milliseconds); text in single quotes is literal (`''` is a quote), other non-letters are literal.
 * Any other letter is refused with a ConfigError, rather than silently printed.
 *
 * Formatting is cached per unit of the pattern's finest field (per hour for 'yyyy-MM-dd--HH'), since a
 * sink formats every record and most fall in the same bucket as the one before. In zones other than UTC
 * the cache unit is at most one second, because a zone's offset need not be whole minutes.
 *
 * @example
 * new DateTimePattern('yyyy-MM-dd--HH', 'UTC').format(Date.UTC(2024, 0, 31, 23, 5)) // '2024-01-31--23'
 * new DateTimePattern("yyyy/MM/dd/'h'HH", 'Asia/Kolkata').format(Date.UTC(2024, 0, 31, 23, 5)) // '2024/02/01/h04'
 */
export class DateTimePattern {
  private readonly tokens: Token[]
  private readonly unitMs: number
  private readonly parts: Intl.DateTimeFormat | undefined
  private lastUnit = Number.NaN
  private lastText = ''

  constructor(
    readonly pattern: string,
    readonly timeZone: string,
    option = 'dateTimeBucketAssigner',
  ) {
    if (typeof pattern !== 'string' || pattern === '')
      throw new ConfigError(`${option}.format`, pattern, 'a date-time pattern such as yyyy-MM-dd--HH')
    if (typeof timeZone !== 'string' || timeZone === '')
      throw new ConfigError(`${option}.timeZone`, timeZone, "an IANA time zone such as 'UTC' or 'Europe/Berlin'")
    this.tokens = tokenize(pattern, `${option}.format`)
    const fields = this.tokens.filter((t): t is { field: Field; width: number } => 'field' in t)
    const finest = Math.min(...fields.map((t) => UNIT_MS[t.field]), UNIT_MS.y)
    const utc = timeZone.toUpperCase() === 'UTC' || timeZone === 'Etc/UTC'
    if (!utc) {
      try {
        this.parts = new Intl.DateTimeFormat('en-US', {
          timeZone,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        })
      } catch {
        throw new ConfigError(`${option}.timeZone`, timeZone, "an IANA time zone such as 'UTC' or 'Europe/Berlin'")
      }
    }
    this.unitMs = utc ? finest : Math.min(finest, 1_000)
  }

  /** The text of instant `epochMs` (milliseconds since 1970 UTC) in this pattern and zone. */
  format(epochMs: number): string {
    const unit = Math.floor(epochMs / this.unitMs)
    if (unit === this.lastUnit) return this.lastText
    const f = this.fieldsOf(epochMs)
    let text = ''
    for (const token of this.tokens) {
      if ('text' in token) text += token.text
      else if (token.field === 'y' && token.width === 2) text += pad(f.y % 100, 2)
      else if (token.field === 'S') text += pad(f.S, 3).padEnd(token.width, '0').slice(0, token.width)
      else text += pad(f[token.field], token.width)
    }
    this.lastUnit = unit
    this.lastText = text
    return text
  }

  private fieldsOf(epochMs: number): Fields {
    const S = ((epochMs % 1000) + 1000) % 1000
    if (this.parts === undefined) {
      const d = new Date(epochMs)
      return {
        y: d.getUTCFullYear(),
        M: d.getUTCMonth() + 1,
        d: d.getUTCDate(),
        H: d.getUTCHours(),
        m: d.getUTCMinutes(),
        s: d.getUTCSeconds(),
        S,
      }
    }
    const f: Fields = { y: 0, M: 0, d: 0, H: 0, m: 0, s: 0, S }
    for (const part of this.parts.formatToParts(epochMs)) {
      switch (part.type) {
        case 'year':
          f.y = Number(part.value)
          break
        case 'month':
          f.M = Number(part.value)
          break
        case 'day':
          f.d = Number(part.value)
          break
        case 'hour':
          f.H = Number(part.value)
          break
        case 'minute':
          f.m = Number(part.value)
          break
        case 'second':
          f.s = Number(part.value)
          break
      }
    }
    return f
  }
}

function tokenize(pattern: string, option: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i]!
    if (c === "'") {
      if (pattern[i + 1] === "'") {
        tokens.push({ text: "'" })
        i += 2
        continue
      }
      let text = ''
      i++
      for (;;) {
        if (i >= pattern.length)
          throw new ConfigError(option, pattern, 'a pattern whose quoted text is closed by a quote')
        if (pattern[i] === "'") {
          if (pattern[i + 1] === "'") {
            text += "'"
            i += 2
            continue
          }
          i++
          break
        }
        text += pattern[i++]
      }
      tokens.push({ text })
    } else if (/[A-Za-z]/.test(c)) {
      if (!FIELD_LETTERS.has(c))
        throw new ConfigError(
          option,
          pattern,
          `a pattern of the letters y M d H m s S (letter '${c}' is not supported; quote literal text: '${c}')`,
        )
      let width = 1
      while (pattern[i + width] === c) width++
      if (c === 'y' && width !== 2 && width !== 4) throw new ConfigError(option, pattern, 'yy or yyyy for the year')
      tokens.push({ field: c as Field, width })
      i += width
    } else {
      tokens.push({ text: c })
      i++
    }
  }
  return tokens
}

function pad(n: number, width: number): string {
  const text = String(n)
  return text.length >= width ? text : '0'.repeat(width - text.length) + text
}
