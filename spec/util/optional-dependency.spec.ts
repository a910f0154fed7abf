import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ConfigError } from '../../lib/errors.js'
import { MissingPackageError, optionalDependency } from '../../lib/util/optional-dependency.js'

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected it to throw')
}

test('a package that is installed is handed out', async () => {
  const rxjs = await optionalDependency<typeof import('rxjs')>('rxjs')
  assert.type(rxjs.get('someSource').Observable, 'function')
})

test('a package that cannot be resolved loads without failing, and using it is a ConfigError naming the package to install', async () => {
  const missing = await optionalDependency('sluice-no-such-package-1f3a')
  const error = thrown(() => missing.get('kafkaSource'))
  assert.instance(error, MissingPackageError)
  assert.instance(error, ConfigError)
  const e = error as MissingPackageError
  assert.is(e.code, 'ERR_CONFIG')
  assert.is(e.option, 'kafkaSource')
  assert.is(e.value, 'sluice-no-such-package-1f3a')
  assert.match(e.message, 'kafkaSource needs the package sluice-no-such-package-1f3a, which is not installed')
  assert.match(e.message, 'npm install sluice-no-such-package-1f3a')
  assert.match(e.stack ?? '', 'npm install sluice-no-such-package-1f3a')
  assert.is((e.cause as { code?: string }).code, 'ERR_MODULE_NOT_FOUND')
})

test('a package that is installed but fails to load says why, not that it is missing', async () => {
  const broken = await optionalDependency('kafkajs', () => Promise.reject(new SyntaxError('Unexpected token')))
  const error = thrown(() => broken.get('kafkaSink')) as MissingPackageError
  assert.instance(error, MissingPackageError)
  assert.is(error.message, 'kafkaSink needs the package kafkajs, which could not be loaded: Unexpected token')
})

test('a missing dependency of the package is named as such', async () => {
  const cause = Object.assign(new Error("Cannot find package 'tslib' imported from /x/kafkajs/index.js"), {
    code: 'ERR_MODULE_NOT_FOUND',
  })
  const partial = await optionalDependency('kafkajs', () => Promise.reject(cause))
  assert.match((thrown(() => partial.get('kafkaSource')) as Error).message, 'could not be loaded: Cannot find package')
})

test.run()
