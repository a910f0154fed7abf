import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

// Inside the repository tsconfig's paths send `sluice/<entry>` to lib/<entry>/index.ts; the published
// exports map sends it to dist/<entry>/index.js. Both must name the same module for every entry, so a
// snippet that runs here runs for a user (scripts/check-package.sh imports every entry from the tarball).
const repo = fileURLToPath(new URL('../..', import.meta.url))
const pkg = JSON.parse(readFileSync(`${repo}/package.json`, 'utf8')) as {
  main: string
  types: string
  exports: Record<string, { types: string; default: string }>
}

test('every entry of the exports map is dist/<entry>/index.js, built from lib/<entry>/index.ts', () => {
  for (const [entry, targets] of Object.entries(pkg.exports)) {
    const path = entry === '.' ? '' : `${entry.slice(2)}/`
    assert.equal(targets, { types: `./dist/${path}index.d.ts`, default: `./dist/${path}index.js` }, entry)
    assert.ok(existsSync(`${repo}/lib/${path}index.ts`), `${entry}: lib/${path}index.ts`)
  }
  // for resolvers that do not read exports (TypeScript's moduleResolution node10)
  assert.equal([pkg.main, pkg.types], [pkg.exports['.']!.default, pkg.exports['.']!.types])
})

test.run()
