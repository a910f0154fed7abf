import { ConfigError } from '../errors.js'
import { createLogger, type Logger } from '../logging.js'

const warned = new Set<string>()
const defaultLog = createLogger()

/**
 * Reads options that may still use deprecated names: moves every old key of `renames` (old name → new
 * name) to its new name, warns once per process and option path that the old name is deprecated
 * (naming the new one), and hands the result to `read` (which validates it). A ConfigError from `read`
 * about a renamed option names the option as the user wrote it. Giving both names fails. The old names
 * keep working for one release.
 *
 * @example
 * readDeprecated('backoff', { minMs: 100, maxMs: 5_000 }, { minMs: 'initialDelayMs', maxMs: 'maxDelayMs' },
 *   (o) => validateBackoff('backoff', o))
 * // { initialDelayMs: 100, maxDelayMs: 5000, … }, and once: "option backoff.minMs is deprecated; use backoff.initialDelayMs"
 */
export function readDeprecated<O, R>(
  path: string,
  options: O,
  renames: Readonly<Record<string, string>>,
  read: (options: O) => R,
  log: Logger = defaultLog,
): R {
  if (options === null || typeof options !== 'object') return read(options)
  const given = options as Record<string, unknown>
  let renamed: Record<string, unknown> | undefined
  const oldPaths = new Map<string, string>()
  for (const [oldName, newName] of Object.entries(renames)) {
    if (!Object.hasOwn(given, oldName)) continue
    const value = given[oldName]
    if (Object.hasOwn(given, newName))
      throw new ConfigError(`${path}.${oldName}`, value, `not given together with ${path}.${newName} (its new name)`)
    renamed ??= { ...given }
    renamed[newName] = value
    delete renamed[oldName]
    oldPaths.set(`${path}.${newName}`, `${path}.${oldName}`)
    warnOnce(log, `${path}.${oldName}`, `${path}.${newName}`)
  }
  if (renamed === undefined) return read(options)
  try {
    return read(renamed as O)
  } catch (error) {
    throw asWritten(error, oldPaths)
  }
}

/**
 * A ConfigError about an option read under its new path, named again by the path the user wrote
 * (`writtenAs`: new path → old path); any other error as it is.
 *
 * @example
 * throw asWritten(error, new Map([['backoff.initialDelayMs', 'backoff.minMs']]))
 */
export function asWritten(error: unknown, writtenAs: ReadonlyMap<string, string>): unknown {
  const oldPath = error instanceof ConfigError ? writtenAs.get(error.option) : undefined
  if (oldPath === undefined || !(error instanceof ConfigError)) return error
  const named = new ConfigError(oldPath, error.value, '')
  named.message = error.message.replaceAll(error.option, oldPath)
  return named
}

function warnOnce(log: Logger, option: string, replacement: string): void {
  if (warned.has(option)) return
  warned.add(option)
  log.warn(`option ${option} is deprecated; use ${replacement}`, { option, replacement })
}
