import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createLogger } from '../../lib/logging.js'
import { validateBackoff } from '../../lib/util/backoff.js'
import { readDeprecated } from '../../lib/util/deprecated-options.js'
import { configError } from '../support/config-error.js'

function capture() {
  const lines: Array<{ msg: string; option: string; replacement: string }> = []
  return { lines, log: createLogger({ level: 'warn', write: (line) => lines.push(JSON.parse(line)) }) }
}

const renames = { minMs: 'initialDelayMs', maxMs: 'maxDelayMs' }
const identity = <O>(o: O): O => o

test('an old name is read as its new one, with one warning per option path naming the new name', () => {
  const { lines, log } = capture()
  const path = `t${Math.random()}`
  assert.equal(readDeprecated(path, { minMs: 1, maxMs: 2, jitter: 0 }, renames, identity, log), {
    jitter: 0,
    initialDelayMs: 1,
    maxDelayMs: 2,
  })
  readDeprecated(path, { minMs: 3, maxMs: 4 }, renames, identity, log)
  assert.equal(
    lines.map((l) => [l.msg, l.replacement]),
    [
      [`option ${path}.minMs is deprecated; use ${path}.initialDelayMs`, `${path}.initialDelayMs`],
      [`option ${path}.maxMs is deprecated; use ${path}.maxDelayMs`, `${path}.maxDelayMs`],
    ],
  )
})

test('options with only new names are read as they are, without a warning', () => {
  const { lines, log } = capture()
  const options = { initialDelayMs: 1, maxDelayMs: 2 }
  assert.is(readDeprecated('n', options, renames, identity, log), options)
  assert.is(lines.length, 0)
})

test('a bad value under an old name is reported under the name the user wrote', () => {
  const error = configError(() =>
    readDeprecated('b', { minMs: 5, maxMs: 1 }, renames, (o) => validateBackoff('b', o as never), capture().log),
  )
  assert.is(error.option, 'b.maxMs')
  assert.match(error.message, 'invalid option b.maxMs: 1')
})

test('an old and a new name together fail, naming both', () => {
  const error = configError(() =>
    readDeprecated('r', { minMs: 1, initialDelayMs: 2 }, renames, identity, capture().log),
  )
  assert.is(error.option, 'r.minMs')
  assert.match(error.message, 'r.initialDelayMs')
})

test.run()
