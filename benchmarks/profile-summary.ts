// Summarises a V8 .cpuprofile: the functions with the most self time, with file:line in the TypeScript
// sources. Profile a case's engine alone, then summarise:
//   node --cpu-prof --cpu-prof-dir=/tmp/sluice-prof --import tsx benchmarks/run.ts --case b --only engine
//   npx tsx benchmarks/profile-summary.ts /tmp/sluice-prof/*.cpuprofile [--top 10]
// tsx runs minified, one-line transforms of the .ts files, so profile positions are mapped back through
// the source maps tsx keeps in its cache (os.tmpdir()/tsx-<uid>): for each file the cache entry whose
// code has the profiled function names at the profiled columns is used.
import { readFileSync, readdirSync } from 'node:fs'
import { SourceMap, type SourceMapPayload } from 'node:module'
import os from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '10' } },
})
const top = Number(args.top)
if (positionals.length === 0) {
  process.stderr.write('usage: npx tsx benchmarks/profile-summary.ts <file.cpuprofile> … [--top 10]\n')
  process.exit(2)
}

const root = fileURLToPath(new URL('..', import.meta.url))

/** tsx's cached transforms, by original source path. */
function tsxCache(): Map<string, { code: string; map: SourceMapPayload }[]> {
  const byFile = new Map<string, { code: string; map: SourceMapPayload }[]>()
  let dir: string
  try {
    dir = join(os.tmpdir(), `tsx-${os.userInfo().uid}`)
    for (const name of readdirSync(dir)) {
      let entry: { code?: string; map?: SourceMapPayload }
      try {
        entry = JSON.parse(readFileSync(join(dir, name), 'utf8'))
      } catch {
        continue
      }
      const source = entry.map?.sources?.[0]
      if (entry.code === undefined || entry.map === undefined || source === undefined) continue
      const list = byFile.get(source) ?? []
      list.push({ code: entry.code, map: entry.map })
      byFile.set(source, list)
    }
  } catch {
    // No cache: positions stay as profiled.
  }
  return byFile
}

const cache = tsxCache()
const chosenMaps = new Map<string, SourceMap | undefined>()

/** The source map of the cache entry whose code best matches the profiled frames of `file`. */
function sourceMapFor(file: string, frames: readonly CallFrame[]): SourceMap | undefined {
  if (chosenMaps.has(file)) return chosenMaps.get(file)
  const candidates = cache.get(file) ?? []
  let best: { score: number; map: SourceMapPayload } | undefined
  for (const c of candidates) {
    let score = 0
    for (const f of frames) {
      if (f.functionName === '' || f.lineNumber !== 0) continue
      const around = c.code.slice(Math.max(0, f.columnNumber - f.functionName.length - 16), f.columnNumber + 2)
      if (around.includes(f.functionName)) score++
    }
    if (best === undefined || score > best.score) best = { score, map: c.map }
  }
  const map = best === undefined ? undefined : new SourceMap(best.map)
  chosenMaps.set(file, map)
  return map
}

function location(frame: CallFrame, framesOfFile: ReadonlyMap<string, CallFrame[]>): string {
  if (frame.url === '') return '(native)'
  if (!frame.url.startsWith('file://')) return `${frame.url}:${frame.lineNumber + 1}`
  const file = fileURLToPath(frame.url)
  const name = relative(root, file)
  if (!file.endsWith('.ts')) return `${name}:${frame.lineNumber + 1}`
  const map = sourceMapFor(file, framesOfFile.get(file) ?? [])
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as { originalLine?: number } | undefined
  return entry?.originalLine === undefined ? `${name}:?` : `${name}:${entry.originalLine + 1}`
}

for (const path of positionals) {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const selfUs = new Map<number, number>()
  // timeDeltas[i] is the time before sample i; the time after it (to the next sample) is billed to it.
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + dt)
  }
  const totalUs = profile.endTime - profile.startTime
  const framesOfFile = new Map<string, CallFrame[]>()
  for (const n of profile.nodes) {
    if (!n.callFrame.url.startsWith('file://')) continue
    const file = fileURLToPath(n.callFrame.url)
    const list = framesOfFile.get(file) ?? []
    list.push(n.callFrame)
    framesOfFile.set(file, list)
  }
  const byFunction = new Map<string, { name: string; frame: CallFrame; us: number }>()
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame
    const key = `${frame.functionName}|${frame.url}|${frame.lineNumber}|${frame.columnNumber}`
    const agg = byFunction.get(key) ?? { name: frame.functionName || '(anonymous)', frame, us: 0 }
    agg.us += us
    byFunction.set(key, agg)
  }
  const ranked = [...byFunction.values()]
    .filter((f) => f.name !== '(idle)' && f.name !== '(root)')
    .sort((a, b) => b.us - a.us)
  const busyUs = ranked.reduce((s, f) => s + f.us, 0)
  process.stdout.write(
    `${relative(process.cwd(), path)}: ${(totalUs / 1000).toFixed(0)} ms profiled, ${(busyUs / 1000).toFixed(0)} ms busy\n\n`,
  )
  process.stdout.write(`| # | self ms | self % of busy | function | where |\n| ---: | ---: | ---: | --- | --- |\n`)
  ranked.slice(0, top).forEach((f, i) => {
    process.stdout.write(
      `| ${i + 1} | ${(f.us / 1000).toFixed(1)} | ${((f.us * 100) / busyUs).toFixed(1)}% | \`${f.name}\` | ${location(f.frame, framesOfFile)} |\n`,
    )
  })
  const byFile = new Map<string, number>()
  for (const f of ranked) {
    const file = f.frame.url.startsWith('file://')
      ? relative(root, fileURLToPath(f.frame.url))
      : f.frame.url === ''
        ? f.name
        : f.frame.url
    byFile.set(file, (byFile.get(file) ?? 0) + f.us)
  }
  process.stdout.write(`\nSelf time by file (top ${top}):\n\n| self ms | % | file |\n| ---: | ---: | --- |\n`)
  for (const [file, us] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`| ${(us / 1000).toFixed(1)} | ${((us * 100) / busyUs).toFixed(1)}% | ${file} |\n`)
  }
  process.stdout.write('\n')
}
