// Run by scripts/check-package.sh: sluice is an ES module. Where Node can require() one (20.19 and
// later) `require('sluice')` and the other engine entries work; a connector entry, which loads its
// client with a top-level await, fails with Node's ERR_REQUIRE_ASYNC_MODULE, whose message says to use
// import(). On older Node every require() fails with ERR_REQUIRE_ESM, which says the same.
const assert = require('node:assert/strict')
const { readFileSync } = require('node:fs')
const { exports: entries } = JSON.parse(readFileSync(`${__dirname}/node_modules/sluice/package.json`, 'utf8'))

if (!process.features.require_module) {
  assert.throws(() => require('sluice'), { code: 'ERR_REQUIRE_ESM' })
  console.log('require.cjs: require("sluice") fails with ERR_REQUIRE_ESM, which says to use import()')
} else {
  assert.equal(typeof require('sluice').StreamEnvironment.create, 'function')
  for (const entry of Object.keys(entries)) {
    const name = entry === '.' ? 'sluice' : `sluice/${entry.slice(2)}`
    if (!name.startsWith('sluice/connectors/')) require(name)
    else
      try {
        require(name) // a connector without a client (HTTP, TCP, actor, HDFS, NiFi) loads
      } catch (error) {
        assert.equal(error.code, 'ERR_REQUIRE_ASYNC_MODULE', `${name}: ${error.message}`)
        assert.match(error.message, /Use import\(\) instead/)
      }
  }
  console.log('require.cjs: require() works for the engine entries; a connector entry says to use import()')
}
