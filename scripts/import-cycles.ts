/**
 * Fails (exit 1) when a module under lib/ imports itself through others — type-only imports and
 * re-exports included — or when lib/runtime imports from lib/api. Reads import specifiers as text:
 * every relative `from '…'` and `import('…')`. npm test runs it (scripts/test.sh).
 *
 * The cycles still to break are listed in scripts/import-cycles.known, one per line as printed: they
 * are reported but do not fail, so the list can only shrink — a new cycle fails, and a listed one that
 * is gone is reported so its line is deleted.
 *
 * @example
 * node --import tsx scripts/import-cycles.ts   # prints each cycle, one per line
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..', 'lib')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

const edges = new Map<string, string[]>()
for (const file of files(root)) {
  const text = readFileSync(file, 'utf8')
  const targets: string[] = []
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g))
    targets.push(resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')))
  edges.set(file, targets)
}

const problems: string[] = []
for (const [file, targets] of edges) {
  const from = relative(root, file)
  for (const t of targets)
    if (from.startsWith('runtime/') && relative(root, t).startsWith('api/'))
      problems.push(`runtime imports api: ${from} → ${relative(root, t)}`)
}

// Tarjan's strongly connected components: every component of more than one module is a cycle.
let index = 0
const indexOf = new Map<string, number>()
const low = new Map<string, number>()
const stack: string[] = []
const onStack = new Set<string>()
function connect(v: string): void {
  indexOf.set(v, index)
  low.set(v, index++)
  stack.push(v)
  onStack.add(v)
  for (const w of edges.get(v) ?? []) {
    if (!edges.has(w)) continue
    if (!indexOf.has(w)) {
      connect(w)
      low.set(v, Math.min(low.get(v)!, low.get(w)!))
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!))
  }
  if (low.get(v) !== indexOf.get(v)) return
  const component: string[] = []
  let w: string
  do {
    w = stack.pop()!
    onStack.delete(w)
    component.push(relative(root, w))
  } while (w !== v)
  if (component.length > 1 || (edges.get(v) ?? []).includes(v))
    problems.push(`import cycle among: ${component.sort().join(', ')}`)
}
for (const v of edges.keys()) if (!indexOf.has(v)) connect(v)

const knownFile = resolve(import.meta.dirname, 'import-cycles.known')
const known = new Set(
  existsSync(knownFile)
    ? readFileSync(knownFile, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
    : [],
)
// A cycle among some of the modules of a known one (part of it was broken) is known too.
const modulesOf = (line: string): string[] => line.replace(/^import cycle among: /, '').split(', ')
const isKnown = (p: string): boolean =>
  known.has(p) ||
  (p.startsWith('import cycle among: ') && [...known].some((k) => modulesOf(p).every((m) => modulesOf(k).includes(m))))
const fresh = problems.filter((p) => !isKnown(p))
for (const p of problems) console.log(`${isKnown(p) ? 'known (to break): ' : 'NEW: '}${p}`)
for (const k of known)
  if (!problems.some((p) => modulesOf(p).every((m) => modulesOf(k).includes(m))))
    console.log(`gone, delete its line in scripts/import-cycles.known: ${k}`)
if (fresh.length > 0) process.exit(1)
console.log(
  `${edges.size} modules of lib/: no import cycle ${known.size > 0 ? 'beside the known ones ' : ''}and runtime/ imports nothing from api/`,
)
