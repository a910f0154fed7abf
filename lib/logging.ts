import { redactingReplacer, redactText } from './util/redact.js'
import { errorChain } from './util/error-chain.js'

/** Severity of a log line; `silent` writes nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

/**
 * A structured logger: every line is one JSON object with time, level, message and fields. Messages and
 * fields are redacted (URL user info, values of credential keys) as the line is written; an error in the
 * fields is written with its stack and cause chain; fields named `time`, `level` or `msg` cannot replace
 * the line's own.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  /** A logger that adds these fields to every line. */
  child(fields: Record<string, unknown>): Logger
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Default: the SLUICE_LOG_LEVEL environment variable, else 'warn'. */
  level?: LogLevel
  /** Where lines go; default standard error. */
  write?: (line: string) => void
  fields?: Record<string, unknown>
}

/**
 * A JSON-lines logger.
 *
 * @example
 * const log = createLogger({ level: 'info' }).child({ job: 'word-count' })
 * log.info('job finished', { records: 1000 }) // {"time":"…","level":"info","msg":"job finished","job":"word-count","records":1000}
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.SLUICE_LOG_LEVEL as LogLevel | undefined) ?? 'warn'
  const threshold = RANK[level] ?? RANK.warn
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const base = options.fields ?? {}
  const emit = (lineLevel: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (RANK[lineLevel] < threshold) return
    // the line's own keys first, then set again: a caller's field of the same name cannot replace them
    const line: Record<string, unknown> = { time: '', level: lineLevel, msg: '', ...base, ...fields }
    line.time = new Date().toISOString()
    line.level = lineLevel
    line.msg = redactText(message)
    write(JSON.stringify(line, replaceErrors))
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger({ level, write, fields: { ...base, ...fields } }),
  }
}

/**
 * A logger of the user's own behind the same redaction as {@link createLogger}: messages lose URL user
 * info and credential values, fields are passed on as redacted plain data (errors as
 * `{ name, message, code }`). The environment wraps a `logger` option with it.
 *
 * @example
 * const log = redactingLogger(pinoAdapter)
 * log.error('job failed', { error }) // pinoAdapter gets the error's message redacted
 */
export function redactingLogger(logger: Logger): Logger {
  const redactFields = (fields?: Record<string, unknown>): Record<string, unknown> | undefined => {
    if (fields === undefined) return undefined
    try {
      return JSON.parse(JSON.stringify(fields, redactingReplacer)) as Record<string, unknown>
    } catch {
      return { fields: '[not serialisable]' }
    }
  }
  return {
    debug: (m, f) => logger.debug(redactText(m), redactFields(f)),
    info: (m, f) => logger.info(redactText(m), redactFields(f)),
    warn: (m, f) => logger.warn(redactText(m), redactFields(f)),
    error: (m, f) => logger.error(redactText(m), redactFields(f)),
    child: (fields) => redactingLogger(logger.child(redactFields(fields) ?? {})),
  }
}

/** Errors as their stack and cause chain; every string (stacks included) redacted. */
function replaceErrors(key: string, value: unknown): unknown {
  if (value instanceof Error) return errorChain(value)
  return redactingReplacer(key, value)
}
