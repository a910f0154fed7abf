import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'

const run = promisify(execFile)

test('npm start runs the demo job: it accounts for every event and reports its throughput', async () => {
  const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts as Record<string, string>
  const [command, ...args] = scripts.start!.split(' ')
  assert.is(command, 'tsx')
  const { stdout } = await run('node', ['--import', 'tsx', ...args], {
    env: { ...process.env, EVENTS: '200000', SLUICE_LOG_LEVEL: 'silent' },
    timeout: 60_000,
  })
  assert.match(stdout, /200,000 events in [\d.]+ s = [\d,]+ events\/s/)
  assert.match(stdout, /= 200,000 events \(all accounted for\); job finished/)
  assert.match(stdout, /dead letters: 2 /)
})

test.run()
