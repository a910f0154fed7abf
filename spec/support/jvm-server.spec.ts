import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { PID_DIRECTORY, sweepOrphans } from './jvm-server.js'
import { tempDir } from './temp-dir.js'
import { settlesWithin } from './wait-for.js'

/**
 * The JVM server kit's sweep, with stand-in processes (`sleep` under another name) instead of JVMs: a
 * server whose test run died is killed and its data removed; one whose owner lives, or a process that
 * only reused a dead server's pid, is left alone.
 */
const Sweep = suite('jvm server sweep')

/** A process whose command line reads as `name 60`; it sleeps a minute. */
function standIn(name: string): ChildProcess {
  return spawn('bash', ['-c', `exec -a "${name}" sleep 60`], { stdio: 'ignore' })
}

/** A pid that no process has now: one of a child that exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true')
  await new Promise((resolve) => child.once('exit', resolve))
  return child.pid!
}

function pidFile(owner: number, server: ChildProcess, dataDir: string): string {
  mkdirSync(PID_DIRECTORY, { recursive: true })
  const file = join(PID_DIRECTORY, `${server.pid}.json`)
  writeFileSync(file, JSON.stringify({ owner, pid: server.pid, label: 'stand-in', dataDir }))
  return file
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()))

Sweep('a server whose test run died is killed and its data directory removed', async () => {
  const server = standIn('java -Dsluice.server=stand-in')
  const data = tempDir('sluice-sweep-')
  const file = pidFile(await deadPid(), server, data.path)
  sweepOrphans()
  await settlesWithin(exited(server), { description: 'the orphan was killed' })
  assert.is(server.signalCode, 'SIGKILL')
  assert.not.ok(existsSync(data.path) || existsSync(file), 'data directory and pid file removed')
})

Sweep('a server of a live test run is left alone', async () => {
  const server = standIn('java -Dsluice.server=stand-in')
  const data = tempDir('sluice-sweep-')
  const file = pidFile(process.pid, server, data.path)
  try {
    sweepOrphans()
    assert.ok(existsSync(data.path) && existsSync(file) && server.exitCode === null && server.signalCode === null)
  } finally {
    server.kill('SIGKILL')
    await exited(server)
    data.remove()
    rmSync(file, { force: true })
  }
})

Sweep('a process that reused a dead server pid is spared; the stale data is removed', async () => {
  const other = standIn('not-a-server')
  const data = tempDir('sluice-sweep-')
  const file = pidFile(await deadPid(), other, data.path)
  try {
    sweepOrphans()
    assert.ok(other.exitCode === null && other.signalCode === null, 'the other process still runs')
    assert.not.ok(existsSync(data.path) || existsSync(file), 'data directory and pid file removed')
  } finally {
    other.kill('SIGKILL')
    await exited(other)
  }
})

Sweep.run()
