#!/usr/bin/env node
// The `sluice` command. Installed from the package it runs the compiled dist/cli/main.js; inside the
// repository (no build) it loads lib/cli/main.ts through tsx, so that `npx sluice` works right after
// `npm ci`. The same choice lets `sluice run job.ts` load a TypeScript job file.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const compiled = join(root, 'dist', 'cli', 'main.js')
const needsTsx = !existsSync(compiled) || process.argv.slice(2).some((a) => /\.[cm]?ts$/.test(a))
if (needsTsx) {
  try {
    const { register } = await import('tsx/esm/api')
    register()
  } catch {
    if (!existsSync(compiled)) {
      process.stderr.write('sluice: dist/ is missing and tsx is not installed: run `npm run build` or `npm i -D tsx`\n')
      process.exit(2)
    }
    process.stderr.write('sluice: TypeScript job files need tsx: `npm i -D tsx` (or compile the job to .js)\n')
    process.exit(2)
  }
}
const entry = existsSync(compiled) ? compiled : join(root, 'lib', 'cli', 'main.ts')
const { main } = await import(pathToFileURL(entry).href)
process.exitCode = await main(process.argv.slice(2))
