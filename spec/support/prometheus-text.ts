/** One sample of a scrape. */
export interface PromSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y

/**
 * Parses the Prometheus text format (0.0.4) strictly: every sample belongs to a family declared by
 * `# TYPE` before it, counters end in `_total`, labels are well quoted, values are numbers. Throws on
 * the first line that breaks a rule, naming it: the tests' equivalent of `promtool check metrics`.
 *
 * @example
 * parsePrometheusText(await (await fetch(url + '/metrics')).text()).filter((s) => s.name === 'up')
 */
export function parsePrometheusText(text: string): PromSample[] {
  const types = new Map<string, string>()
  const samples: PromSample[] = []
  for (const [i, line] of text.split('\n').entries()) {
    const where = `line ${i + 1}: ${line}`
    if (line.trim() === '') continue
    if (line.startsWith('# HELP ')) continue
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ')
      if (name === undefined || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? ''))
        throw new Error(`bad TYPE, ${where}`)
      if (types.has(name)) throw new Error(`family declared twice, ${where}`)
      if (type === 'counter' && !name.endsWith('_total')) throw new Error(`counter without _total, ${where}`)
      types.set(name, type!)
      continue
    }
    if (line.startsWith('#')) continue
    const match = SAMPLE.exec(line)
    if (match === null) throw new Error(`not a sample, ${where}`)
    const [, name, labelText = '', valueText] = match
    if (!types.has(name!)) throw new Error(`sample of an undeclared family, ${where}`)
    const labels: Record<string, string> = {}
    LABEL.lastIndex = 0
    while (LABEL.lastIndex < labelText.length) {
      const l = LABEL.exec(labelText)
      if (l === null) throw new Error(`bad labels, ${where}`)
      if (l[1]! in labels) throw new Error(`label repeated, ${where}`)
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c))
    }
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText)
    if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`bad value, ${where}`)
    samples.push({ name: name!, labels, value })
  }
  return samples
}
