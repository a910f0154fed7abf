// Prints the package-lock.json of a project that depends on nothing but a packed sluice tarball: the
// tarball, and its dependencies' whole tree as the repository's lockfile pins them (resolved URL and
// integrity), so `npm ci --offline` installs it from the npm cache alone.
// Usage: node scripts/consumer-lockfile.mjs <repository package-lock.json> <tarball>
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'

const [lockPath, tarball] = process.argv.slice(2)
const { packages } = JSON.parse(readFileSync(lockPath, 'utf8'))
const root = packages['']
const spec = `file:../${basename(tarball)}`
const out = {
  '': { name: 'sluice-consumer', dependencies: { sluice: spec } },
  'node_modules/sluice': {
    version: root.version,
    resolved: spec,
    integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
    license: root.license,
    dependencies: root.dependencies,
    peerDependencies: root.peerDependencies,
    peerDependenciesMeta: root.peerDependenciesMeta,
    engines: root.engines,
  },
}
const pending = Object.keys(root.dependencies ?? {})
while (pending.length > 0) {
  const name = pending.pop()
  const key = `node_modules/${name}`
  if (out[key] !== undefined) continue
  const entry = packages[key]
  if (entry === undefined) throw new Error(`${name} is not in ${lockPath}`)
  const { dev, devOptional, peer, ...pinned } = entry
  out[key] = pinned
  pending.push(...Object.keys(entry.dependencies ?? {}))
}
console.log(JSON.stringify({ name: 'sluice-consumer', lockfileVersion: 3, requires: true, packages: out }, null, 2))
