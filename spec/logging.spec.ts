import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createLogger } from '../lib/logging.js'

function capture() {
  const lines: Array<Record<string, unknown>> = []
  const log = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) })
  return { log, lines }
}

test('an error is logged with its stack and its cause chain', () => {
  const { log, lines } = capture()
  const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })
  log.error('job failed', { error: new Error('sink write failed', { cause: root }) })
  const error = lines[0]!.error as {
    message: string
    stack: string
    cause: { message: string; code: string; stack: string }
  }
  assert.is(error.message, 'sink write failed')
  assert.match(error.stack, /logging\.spec\.ts/)
  assert.is(error.cause.message, 'connect ECONNREFUSED 127.0.0.1:9')
  assert.is(error.cause.code, 'ECONNREFUSED')
  assert.match(error.cause.stack, /^Error: connect ECONNREFUSED/)
})

test('a cycle of causes ends instead of hanging the log line', () => {
  const { log, lines } = capture()
  const a = new Error('a')
  const b = new Error('b', { cause: a })
  ;(a as { cause?: unknown }).cause = b
  log.warn('cycle', { error: a })
  let depth = 0
  for (let e = lines[0]!.error as { cause?: unknown } | undefined; e !== undefined; e = e.cause as typeof e) depth++
  assert.ok(depth > 1 && depth <= 8, `depth ${depth}`)
})

test('fields named time, level or msg cannot replace the line’s own, from a child or a call', () => {
  const { log, lines } = capture()
  log.child({ level: 'debug', msg: 'child' }).error('real message', { time: 'forged', level: 'info', msg: 'forged' })
  const line = lines[0]!
  assert.is(line.level, 'error')
  assert.is(line.msg, 'real message')
  assert.ok(!Number.isNaN(Date.parse(line.time as string)), String(line.time))
  assert.equal(Object.keys(line).slice(0, 3), ['time', 'level', 'msg'])
})

test.run()
