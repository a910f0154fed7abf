#!/usr/bin/env bash
# The package as a user gets it. Packs a clean copy of this checkout (the files git tracks or would
# track: no dist/, so `prepack` must build it), installs the tarball into an empty project with only its
# own dependencies (offline, from the npm cache `npm ci` filled; no connector client), and there, from
# spec/package/: runs a small job from a plain .mjs file with node (every connector entry imports, and
# building a connector names the client to install), require()s it from CommonJS, and type-checks a
# TypeScript consumer with moduleResolution node16 and bundler. Part of `npm test`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/src" "$work/app"

# git ls-files lists tracked files deleted in the work tree too: tar skips them quietly
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
  tar --null --files-from=- --ignore-failed-read --warning=no-failed-read -cf -) | tar -xf - -C "$work/src"
ln -s "$repo/node_modules" "$work/src/node_modules"
started=$(date +%s)
tarball=$(cd "$work/src" && npm pack --silent --pack-destination "$work" | tail -1)
echo "package: packed $tarball ($(du -k "$work/$tarball" | cut -f1) kB) in $(($(date +%s) - started)) s"

listing=$(tar -tzf "$work/$tarball")
for file in package/package.json package/LICENSE package/README.md package/dist/index.js package/dist/index.d.ts; do
  grep -qx "$file" <<<"$listing" || { echo "package: $file is missing from the tarball" >&2; exit 1; }
done
if grep -E '^package/(spec|benchmarks|examples|node_modules)/' <<<"$listing" | head -1 | grep -q .; then
  echo "package: the tarball holds files a user does not need" >&2
  exit 1
fi

cd "$work/app"
echo "{ \"name\": \"sluice-consumer\", \"private\": true, \"type\": \"module\", \"dependencies\": { \"sluice\": \"file:../$tarball\" } }" >package.json
# a lockfile of the tarball and its dependencies as the repository's lockfile pins them, so `npm ci`
# installs offline: it fetches tarballs by integrity from the cache and needs no registry metadata
node "$repo/scripts/consumer-lockfile.mjs" "$repo/package-lock.json" "$work/$tarball" >package-lock.json
npm ci --offline --no-audit --no-fund --loglevel=error >/dev/null
# the consumer's own @types/node: the repository's (its registry metadata is not in the cache after npm ci)
mkdir -p node_modules/@types && ln -s "$repo/node_modules/@types/node" node_modules/@types/node
for client in $(node -p "Object.keys(require('$repo/package.json').peerDependencies).join(' ')"); do
  [ ! -e "node_modules/$client" ] || { echo "package: the optional peer $client was installed" >&2; exit 1; }
done
cp "$repo"/spec/package/{job.mjs,require.cjs,consumer.ts,tsconfig.node16.json,tsconfig.bundler.json} .

node job.mjs
node require.cjs
for resolution in node16 bundler; do
  node "$repo/node_modules/typescript/bin/tsc" -p "tsconfig.$resolution.json"
  echo "consumer.ts: type-checks with moduleResolution $resolution"
done
