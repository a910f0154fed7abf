import * as assert from 'uvu/assert'
import { test } from 'uvu'
import { closestName, finiteNumber, nonEmptyString, oneOf, optionsObject, wholeNumber } from '../../lib/util/options.js'
import { configError } from '../support/config-error.js'

test('an unknown key fails naming its path and suggesting the closest known key', () => {
  const error = configError(() => optionsObject('kafkaSource', { groupID: 'g' }, ['groupId', 'topics']))
  assert.is(error.option, 'kafkaSource.groupID')
  assert.match(error.message, 'did you mean groupId?')
})

test('a key that starts with a known key suggests that key', () => {
  assert.is(closestName('prefetchCount', ['prefetch', 'queue']), 'prefetch')
  assert.is(closestName('pre', ['prefetch', 'queue']), undefined)
})

test('a key far from every known key lists the known keys instead', () => {
  const error = configError(() => optionsObject('env', { colour: 1 }, ['parallelism', 'checkpointing']))
  assert.match(error.message, 'known: parallelism, checkpointing')
})

test('undefined options are an empty object; a non-object fails', () => {
  assert.equal(optionsObject('x', undefined, ['a']), {})
  assert.is(configError(() => optionsObject('x', [1] as never, ['a'])).option, 'x')
})

test('closestName finds misspellings and refuses distant words', () => {
  assert.is(closestName('paralelism', ['parallelism', 'maxParallelism']), 'parallelism')
  assert.is(closestName('batchsize', ['batchSize', 'lingerMs']), 'batchSize')
  assert.is(closestName('zzz', ['batchSize']), undefined)
  assert.is(closestName('prot', ['host', 'port']), 'port', 'a swap of neighbours is one edit')
  assert.is(closestName('nmae', ['name', 'uid']), 'name')
})

test('value validators return defaults and name the path on bad values', () => {
  assert.is(wholeNumber('a.b', undefined, 5, 1), 5)
  assert.match(configError(() => wholeNumber('a.b', 0, 5, 1)).message, 'a.b')
  assert.match(configError(() => wholeNumber('a.b', 11, 5, 1, 10)).message, 'from 1 to 10')
  assert.is(finiteNumber('a.c', 0, 1, 0), 0)
  assert.is(configError(() => finiteNumber('a.c', Number.POSITIVE_INFINITY, 1)).option, 'a.c')
  assert.is(oneOf('a.d', undefined, ['x', 'y'], 'x'), 'x')
  assert.is(configError(() => oneOf('a.d', 'z', ['x', 'y'])).option, 'a.d')
  assert.is(configError(() => nonEmptyString('a.e', '')).option, 'a.e')
})

test.run()
