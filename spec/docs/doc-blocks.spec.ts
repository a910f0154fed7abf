import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  type BlockFile,
  docBlocks,
  markdownFiles,
  removeBlockFiles,
  typecheckBlocks,
  writeBlockFiles,
} from '../support/doc-blocks.js'

// The convention (markers, preludes) is written at the top of spec/support/doc-blocks.ts.
const repo = fileURLToPath(new URL('../..', import.meta.url))
const RUN_TIMEOUT_MS = 60_000

const blocks = markdownFiles(repo).flatMap((file) => docBlocks(file, readFileSync(join(repo, file), 'utf8')))
// one block that must fail, so a checker that reports nothing cannot pass
const broken = docBlocks('broken.md', '<!-- check: typecheck-only\nconst n = 1\n-->\n```ts\nconst s: string = n\n```\n')
mkdirSync(join(repo, '.tmp'), { recursive: true })
const directory = mkdtempSync(join(repo, '.tmp', 'doc-blocks-'))
const files = writeBlockFiles([...blocks, ...broken], directory, repo)
// blocks placed in lib/ (`as <path>`) are removed on exit too, even when a test throws
process.once('exit', () => removeBlockFiles(repo, files))

test.after(() => {
  removeBlockFiles(repo, files)
  rmSync(directory, { recursive: true, force: true })
})

test('blocks are read with their marker and prelude; an unknown mode is refused', () => {
  const [plain, marked] = docBlocks(
    'x.md',
    '```ts\nconst a = 1\n```\n\n<!-- check: typecheck-only\ndeclare const b: number\n-->\n\n```ts\nb\n```\n```sh\nls\n```\n',
  )
  assert.equal(plain, { where: 'x.md:1', mode: 'run', prelude: '', code: 'const a = 1', firstLine: 2 })
  assert.equal(marked, {
    where: 'x.md:9',
    mode: 'typecheck-only',
    prelude: 'declare const b: number',
    code: 'b',
    firstLine: 10,
  })
  assert.throws(
    () => docBlocks('x.md', '<!-- check: sometimes -->\n```ts\n```\n'),
    /x\.md:1: unknown check mode sometimes/,
  )
  assert.equal(docBlocks('z.md', '<!-- check: typecheck-only as lib/connectors/tube/a.ts -->\n```ts\nx\n```\n'), [
    { where: 'z.md:2', mode: 'typecheck-only', prelude: '', code: 'x', firstLine: 3, as: 'lib/connectors/tube/a.ts' },
  ])
  assert.throws(
    () => docBlocks('z.md', '<!-- check: run as lib/a.ts -->\n```ts\n```\n'),
    /z\.md:1: only typecheck-only/,
  )
  assert.throws(() => docBlocks('z.md', '<!-- check: typecheck-only as ../a.ts -->\n```ts\n```\n'), /under lib/)
  assert.equal(docBlocks('y.md', '````md\n```ts\nan example of a block\n```\n````\n'), [])
  assert.ok(blocks.length >= 10, `found ${blocks.length} blocks`)
})

test('every TypeScript block of README.md and docs/ type-checks (a wrong one is reported at its line)', () => {
  let errors: string[]
  try {
    errors = typecheckBlocks(repo, files)
  } finally {
    removeBlockFiles(repo, files) // blocks placed in lib/ are only type-checked: out of the tree at once
  }
  const [expected] = errors.splice(
    errors.findIndex((e) => e.startsWith('broken.md')),
    1,
  )
  assert.is(expected, "broken.md:5: Type 'number' is not assignable to type 'string'.")
  assert.equal(errors, [])
})

for (const file of files.filter((f) => f.block.mode === 'run' && !f.block.where.startsWith('broken.md'))) {
  test(`${file.block.where} runs`, async () => {
    const { code, output } = await run(file)
    assert.is(code, 0, `${file.block.where} exited with ${code}:\n${output.slice(-3000)}`)
  })
}

/** Runs a block with tsx in an empty directory of its own (files it writes land there). */
async function run(file: BlockFile): Promise<{ code: number | null; output: string }> {
  const cwd = mkdtempSync(join(tmpdir(), 'sluice-doc-block-'))
  try {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), file.path], {
      cwd,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(repo, 'tsconfig.json'), SLUICE_LOG_LEVEL: 'warn' },
      timeout: RUN_TIMEOUT_MS,
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    return { code, output }
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
}

test.run()
