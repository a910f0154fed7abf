import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
/** The package's public entry points: the `exports` map of package.json, as TypeScript sources. */
const ENTRY_POINTS = (
  Object.values(
    (await import(join(ROOT, 'package.json'), { with: { type: 'json' } })).default.exports as Record<
      string,
      { default: string }
    >,
  ) as Array<{ default: string }>
)
  // dist/<entry>/index.js is built from lib/<entry>/index.ts (spec/package/exports.spec.ts): read the source
  .map((e) => join(ROOT, e.default.replace(/^\.\/dist\//, 'lib/').replace(/\.js$/, '.ts')))

/**
 * The public exports of every entry point with no doc comment, as `entry: name`. What TypeDoc's
 * `validation.notDocumented` reports for exports, from one type-checker pass (a few seconds, where a
 * full TypeDoc run takes much longer); `npm run docs` renders the reference.
 */
function undocumentedExports(): string[] {
  const program = ts.createProgram(ENTRY_POINTS, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
  })
  const checker = program.getTypeChecker()
  const missing: string[] = []
  for (const entry of ENTRY_POINTS) {
    const source = program.getSourceFile(entry)
    const module = source === undefined ? undefined : checker.getSymbolAtLocation(source)
    assert.ok(module, `entry point ${entry} has a module symbol`)
    for (const exported of checker.getExportsOfModule(module!)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
      const documented =
        symbol.getDocumentationComment(checker).length > 0 ||
        (symbol.declarations ?? []).some((d) => ts.getJSDocCommentsAndTags(d).length > 0)
      if (!documented) missing.push(`${entry.slice(ROOT.length + 1)}: ${exported.name}`)
    }
  }
  return missing
}

test('every public export of every entry point has a doc comment', () => {
  const missing = undocumentedExports()
  assert.equal(missing, [], `undocumented public exports:\n${missing.join('\n')}`)
})

test.run()
