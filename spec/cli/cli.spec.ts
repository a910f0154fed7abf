import { spawn } from 'node:child_process'
import { mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createLogger } from '../../lib/logging.js'
import { JobServer } from '../../lib/server/job-server.js'
import { parsePrometheusText } from '../support/prometheus-text.js'
import { tickingJob } from '../support/running-job.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = join(ROOT, 'bin/sluice.mjs')
const JOBS = join(ROOT, 'spec/support/cli-jobs')

/** Runs `sluice …` as a user would (a child process, no TTY) and collects its exit code and output. */
function sluice(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, SLUICE_URL: '', SLUICE_TOKEN: '', SLUICE_LOG_LEVEL: 'error', ...env },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

test('list, savepoint, stop --savepoint, cancel and metrics against a running job server', async () => {
  const server = await JobServer.start({ token: 'cli-token', logger: createLogger({ level: 'silent' }) })
  const first = tickingJob(server, 'cli-first')
  const second = tickingJob(server, 'cli-second')
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-'))
  try {
    await Promise.all([first.running, second.running])
    const auth = ['--url', server.url, '--token', 'cli-token']
    const list = await sluice(['list', ...auth])
    assert.is(list.code, 0, list.stderr)
    assert.match(list.stdout, new RegExp(`${first.id}\\trunning\\t\\d+s\\tcli-first`))
    assert.match(list.stdout, second.id)

    const saved = await sluice(['savepoint', first.id, join(dir, 'sp'), ...auth])
    assert.is(saved.code, 0, saved.stderr)
    assert.ok((await readdir(saved.stdout.trim())).length > 0)

    const metrics = await sluice(['metrics', '--url', server.url], { SLUICE_TOKEN: 'cli-token' })
    assert.is(metrics.code, 0, metrics.stderr)
    assert.ok(parsePrometheusText(metrics.stdout).some((s) => s.labels.job_id === first.id))

    const stopped = await sluice(['stop', first.id, '--savepoint', join(dir, 'stop'), ...auth])
    assert.is(stopped.code, 0, stopped.stderr)
    assert.is((await first.result).status, 'finished')

    const cancelled = await sluice(['cancel', second.id, ...auth])
    assert.is(cancelled.code, 0, cancelled.stderr)
    assert.is(cancelled.stdout.trim(), `${second.id}\tcancelled`)
    assert.is((await second.result).status, 'cancelled')
  } finally {
    await first.cancel()
    await second.cancel()
    await server.close()
  }
})

test('the server’s refusals are printed with their code and exit 1; usage errors exit 2; no server exits 3', async () => {
  const server = await JobServer.start({ token: 'cli-token', logger: createLogger({ level: 'silent' }) })
  try {
    const badToken = await sluice(['list', '--url', server.url, '--token', 'wrong'])
    assert.is(badToken.code, 1)
    assert.match(badToken.stderr, /ERR_UNAUTHORIZED/)
    const unknown = await sluice(['cancel', 'no-such-job', '--url', server.url, '--token', 'cli-token'])
    assert.is(unknown.code, 1)
    assert.match(unknown.stderr, /ERR_UNKNOWN_JOB: no job no-such-job/)
    const usage = await sluice(['stop', 'x', '--url', server.url])
    assert.is(usage.code, 2)
    assert.match(usage.stderr, /--savepoint/)
    assert.is((await sluice(['list', '--bogus'])).code, 2)
  } finally {
    await server.close()
  }
  const down = await sluice(['list', '--url', 'http://127.0.0.1:2'])
  assert.is(down.code, 3)
  assert.match(down.stderr, /cannot reach the job server at http:\/\/127\.0\.0\.1:2 \(ECONNREFUSED\)/)
})

test('run executes a job file to the end with plain status lines; a failing job exits 1; a file without job() exits 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-cli-run-'))
  const ok = await sluice(['run', join(JOBS, 'count-to.ts'), '--parallelism', '2', '--checkpoint-dir', dir])
  assert.is(ok.code, 0, ok.stderr)
  assert.match(ok.stderr, /sluice: job count-to [0-9a-f-]{36} started; job server http:\/\/127\.0\.0\.1:\d+/)
  assert.match(ok.stderr, /sluice: job count-to finished after/)
  const failed = await sluice(['run', join(JOBS, 'fails.ts')])
  assert.is(failed.code, 1)
  assert.match(failed.stderr, /failed: .*three is not allowed/)
  const none = await sluice(['run', join(JOBS, 'no-job.ts')])
  assert.is(none.code, 2)
  assert.match(none.stderr, /must export function job\(env: StreamEnvironment\)/)
  assert.is((await sluice(['run', join(JOBS, 'count-to.ts'), '--parallelism', 'two'])).code, 2)
})

test.run()
