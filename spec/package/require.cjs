// Run by scripts/check-package.sh: sluice is an ES module. Where Node can require() one (20.19 and later)
// `require('sluice')` works; elsewhere Node's own error says to use import().
const assert = require('node:assert/strict')

if (process.features.require_module) {
  const sluice = require('sluice')
  assert.equal(typeof sluice.StreamEnvironment.create, 'function')
  console.log('require.cjs: require("sluice") works')
} else {
  assert.throws(() => require('sluice'), { code: 'ERR_REQUIRE_ESM' })
  console.log('require.cjs: require("sluice") fails with ERR_REQUIRE_ESM, which says to use import()')
}
