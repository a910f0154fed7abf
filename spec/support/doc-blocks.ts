/**
 * The TypeScript blocks of README.md and docs/**\/*.md, checked by spec/docs/doc-blocks.spec.ts so the
 * docs cannot drift from the code. Every ```ts (or ```typescript) block is type-checked against lib/
 * (imported as `sluice`, through tsconfig's paths), each block as its own module; it is also run unless
 * marked. The marker is an HTML comment right before the block (blank lines between are allowed), which
 * GitHub does not show:
 *
 *   <!-- check: run -->             the default: type-check, then run with tsx in an empty temporary
 *                                   directory; it must exit with 0 within 60 s
 *   <!-- check: typecheck-only -->  type-check only, for a block that needs an external service (a
 *                                   broker, a fixed port) or never ends
 *
 * Lines between `<!-- check: <mode>` and `-->` are a hidden prelude: TypeScript put before the block,
 * with the imports and declarations a fragment assumes (`declare const env: StreamEnvironment`,
 * `interface Order { id: string }`), or data that lets it run (`writeFileSync('books.txt', …)`).
 *
 * A block that is a file of the library itself (a connector guide's worked example, importing its
 * neighbours as `../base/reconnect-loop.js` and `./options.js`) names where it lives:
 *
 *   <!-- check: typecheck-only as lib/connectors/tube/reader.ts -->
 *
 * It is written to that path of the repository (which must lie under lib/ and must not exist: a real
 * source file is never overwritten), type-checked in place in the same program as every other block,
 * and removed afterwards. Only `typecheck-only` takes `as`.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, normalize, relative, sep } from 'node:path'
import ts from 'typescript'

export const CHECK_MODES = ['run', 'typecheck-only'] as const
export type CheckMode = (typeof CHECK_MODES)[number]

/** One TypeScript block of a Markdown file. */
export interface DocBlock {
  /** `README.md:22`: the file (relative to the repository) and the line of the opening fence. */
  readonly where: string
  readonly mode: CheckMode
  readonly prelude: string
  readonly code: string
  /** The Markdown line of the block's first line of code (1-based). */
  readonly firstLine: number
  /** `lib/connectors/tube/reader.ts`: where the block is placed in the repository (`as <path>`). */
  readonly as?: string
}

const OPENING_FENCE = /^(`{3,})/
const TS_FENCE = /^```(ts|typescript)\s*$/
const MARKER = /^<!--\s*check:\s*(\S+)(?:\s+as\s+(\S+))?\s*(-->)?\s*$/

/**
 * The TypeScript blocks of one Markdown text; throws naming the line of an unknown mode or an
 * unclosed block.
 *
 * @example
 * docBlocks('README.md', '```ts\nconst a = 1\n```\n') // [{ where: 'README.md:1', mode: 'run', code: 'const a = 1', … }]
 */
export function docBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n')
  const blocks: DocBlock[] = []
  let marker: { mode: CheckMode; prelude: string[]; as: string | undefined } | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const opening = MARKER.exec(line)
    if (opening !== null) {
      const mode = opening[1] as CheckMode
      if (!CHECK_MODES.includes(mode))
        throw new Error(`${file}:${i + 1}: unknown check mode ${mode} (known: ${CHECK_MODES.join(', ')})`)
      const as = opening[2]
      if (as !== undefined) {
        if (mode !== 'typecheck-only')
          throw new Error(`${file}:${i + 1}: only typecheck-only takes "as <path>" (found ${mode})`)
        const path = normalize(as)
        if (!/^lib\/.+\.ts$/.test(as) || path !== as || path.split(sep).includes('..'))
          throw new Error(`${file}:${i + 1}: "as ${as}" must be a .ts path under lib/`)
      }
      const prelude: string[] = []
      if (opening[3] === undefined) {
        while (++i < lines.length && lines[i]!.trim() !== '-->') prelude.push(lines[i]!)
        if (i === lines.length) throw new Error(`${file}:${i}: a check comment without its closing -->`)
      }
      marker = { mode, prelude, as }
      continue
    }
    const fence = OPENING_FENCE.exec(line)?.[1]
    if (fence !== undefined) {
      // closed by a line of at least as many backticks and nothing else (a longer fence can hold ```ts)
      const start = i
      while (++i < lines.length && !(lines[i]!.startsWith(fence) && /^`+\s*$/.test(lines[i]!)));
      if (i === lines.length) throw new Error(`${file}:${start + 1}: a code block without its closing fence`)
      if (TS_FENCE.test(line)) {
        blocks.push({
          where: `${file}:${start + 1}`,
          mode: marker?.mode ?? 'run',
          prelude: marker?.prelude.join('\n') ?? '',
          code: lines.slice(start + 1, i).join('\n'),
          firstLine: start + 2,
          ...(marker?.as === undefined ? {} : { as: marker.as }),
        })
      }
      marker = undefined
    } else if (line.trim() !== '') marker = undefined
  }
  return blocks
}

/**
 * README.md and every Markdown file under docs/, as paths relative to the repository.
 *
 * @example
 * markdownFiles('/repo') // ['README.md', 'docs/architecture.md', 'docs/connectors/kafka.md', …]
 */
export function markdownFiles(repo: string): string[] {
  const docs = readdirSync(join(repo, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f))
    .sort()
  return ['README.md', ...docs]
}

/** A block written out as a module: its prelude, its code, and `export {}` so it has a scope of its own. */
export interface BlockFile {
  readonly block: DocBlock
  readonly path: string
  readonly preludeLines: number
}

/**
 * Writes each block as a .ts module into `directory` (which must lie inside the repository, so that
 * its imports resolve from the repository's node_modules); a block marked `as <path>` goes to that
 * path of `repo` instead, and throws if a file is there already. Remove them with `removeBlockFiles`.
 *
 * @example
 * const files = writeBlockFiles(blocks, join(repo, '.tmp/doc-blocks'), repo)
 */
export function writeBlockFiles(blocks: readonly DocBlock[], directory: string, repo?: string): BlockFile[] {
  mkdirSync(directory, { recursive: true })
  const placed = blocks.filter((b) => b.as !== undefined)
  if (placed.length > 0 && repo === undefined) throw new Error(`${placed[0]!.where}: "as" needs the repository`)
  for (const block of placed) {
    const path = join(repo!, block.as!)
    if (existsSync(path)) throw new Error(`${block.where}: ${block.as} exists; a block never overwrites a source`)
    if (placed.filter((b) => b.as === block.as).length > 1)
      throw new Error(`${block.where}: another block is placed at ${block.as} too`)
  }
  return blocks.map((block, n) => {
    const name = `${String(n).padStart(3, '0')}-${block.where.replace(/[^A-Za-z0-9]+/g, '-')}.ts`
    const path = block.as === undefined ? join(directory, name) : join(repo!, block.as)
    if (block.as !== undefined) mkdirSync(dirname(path), { recursive: true })
    const prelude = block.prelude === '' ? '' : `${block.prelude}\n`
    writeFileSync(path, `${prelude}${block.code}\nexport {}\n`)
    return { block, path, preludeLines: prelude === '' ? 0 : block.prelude.split('\n').length }
  })
}

/**
 * Removes the files of blocks placed in the repository (`as <path>`) and the folders that are left
 * empty by it, up to (not including) lib/.
 *
 * @example
 * removeBlockFiles(repo, files)
 */
export function removeBlockFiles(repo: string, files: readonly BlockFile[]): void {
  for (const file of files) {
    if (file.block.as === undefined) continue
    rmSync(file.path, { force: true })
    for (let dir = dirname(file.path); relative(join(repo, 'lib'), dir) !== ''; dir = dirname(dir)) {
      if (!existsSync(dir) || readdirSync(dir).length > 0) break
      rmSync(dir, { recursive: true })
    }
  }
}

/**
 * Type-checks the block files with the repository's tsconfig in one program and returns each error as
 * `README.md:57: <message>` (a prelude's error points at its marker).
 *
 * @example
 * typecheckBlocks(repo, files) // [] when every block type-checks
 */
export function typecheckBlocks(repo: string, files: readonly BlockFile[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(repo, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
      },
    },
  )
  if (config === undefined) throw new Error('tsconfig.json could not be read')
  const program = ts.createProgram(
    files.map((f) => f.path),
    { ...config.options, noEmit: true },
  )
  const errors: string[] = []
  for (const file of files) {
    const source = program.getSourceFile(file.path)!
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
    for (const d of diagnostics) {
      const line = source.getLineAndCharacterOfPosition(d.start ?? 0).line
      const [path] = file.block.where.split(':')
      const where =
        line < file.preludeLines
          ? `${file.block.where} (its prelude)`
          : `${path}:${file.block.firstLine + line - file.preludeLines}`
      errors.push(`${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
    }
  }
  return errors
}
