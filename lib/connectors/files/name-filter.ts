import { ConfigError } from '../../errors.js'

/**
 * Which file names a directory source reads. Names starting with '.' or '_' are always skipped, as
 * Flink's default file filter does: tools write such temporary files and rename them when complete, so
 * reading them would read half-written data twice. `pattern` narrows further: a RegExp tested against
 * the name, or a glob on the name where `*` is any run of characters, `?` one character and `[abc]`
 * one of a set.
 *
 * @example
 * const accepts = nameFilter('monitorDirectory.pattern', '*.log')
 * accepts('app.log') // true
 * accepts('.app.log.swp') // false
 */
export function nameFilter(option: string, pattern: RegExp | string | undefined): (name: string) => boolean {
  if (pattern === undefined) return (name) => !isHidden(name)
  const regex = typeof pattern === 'string' ? globToRegExp(option, pattern) : pattern
  if (!(regex instanceof RegExp)) throw new ConfigError(option, pattern, 'a RegExp or a glob string such as "*.log"')
  // A /g or /y RegExp keeps lastIndex between test() calls and would skip every other match.
  const stateless = regex.global || regex.sticky ? new RegExp(regex.source, regex.flags.replace(/[gy]/g, '')) : regex
  return (name) => !isHidden(name) && stateless.test(name)
}

function isHidden(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_')
}

function globToRegExp(option: string, glob: string): RegExp {
  if (glob === '') throw new ConfigError(option, glob, 'a non-empty glob such as "*.log"')
  let source = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') source += '.*'
    else if (c === '?') source += '.'
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close < 0) throw new ConfigError(option, glob, 'a glob whose "[" has a closing "]"')
      const body = glob.slice(i + 1, close).replace(/\\/g, '\\\\')
      source += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`
      i = close
    } else source += c.replace(/[.+^${}()|\\\]]/g, '\\$&')
  }
  return new RegExp(`^${source}$`, 's')
}
