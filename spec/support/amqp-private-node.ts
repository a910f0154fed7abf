import { spawn } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { rabbitmqctl } from './amqp-broker.js'
import { coordinatorOnly, replayedTest } from './worker-pass/pass-context.js'

const BASE = process.env.SLUICE_RABBITMQ_PRIVATE_BASE ?? '/var/tmp/sluice-rabbitmq-private'
const PORT = 5673

/**
 * A second RabbitMQ node of the test's own (`sluice-restart@localhost`, 127.0.0.1:5673, data in
 * /var/tmp/sluice-rabbitmq-private), so that a test can restart a broker mid-stream without touching
 * the machine's shared one on 5672. Booting takes about 5 s (13 s the very first time, when its
 * database is created); a restart is a full stop of the Erlang node and a new start. Test runs on one
 * machine take turns (a lock directory next to the data): one run's restart must not hit another's
 * test. The run holding the lock owns the node and stops it at the end, also one an interrupted run
 * left behind. In a worker of the worker-executor test pass replaying a test, the node is the
 * coordinator's: the worker takes no lock and boots nothing, and a restart runs on the coordinator
 * only (`coordinatorOnly`).
 *
 * @example
 * const node = await PrivateRabbitNode.start()
 * await node.restart()
 * await node.stop()
 */
export class PrivateRabbitNode {
  readonly node = 'sluice-restart@localhost'
  readonly port = PORT
  readonly url = `amqp://guest:guest@127.0.0.1:${PORT}`
  private constructor() {}

  /** Takes the lock, then boots the node unless it already answers (an interrupted run left it up). */
  static async start(timeoutMs = 60_000): Promise<PrivateRabbitNode> {
    // the coordinator holds the lock under this process's pid: a worker would wait for it in vain
    if (replayedTest() !== undefined) return new PrivateRabbitNode()
    await takeLock(timeoutMs)
    const node = new PrivateRabbitNode()
    try {
      if (!(await portOpen(PORT))) await node.boot(timeoutMs)
    } catch (error) {
      releaseLock()
      throw error
    }
    return node
  }

  /** Stops the whole node (the Erlang VM halts, every connection drops) and boots it again. */
  restart(timeoutMs = 60_000): Promise<void> {
    return coordinatorOnly(async () => {
      await rabbitmqctl(['stop'], this.node)
      await waitForPort(false, 10_000)
      await this.boot(timeoutMs)
    }, undefined)
  }

  /** Stops the node and releases the lock. */
  async stop(): Promise<void> {
    try {
      await rabbitmqctl(['stop'], this.node).catch(() => {})
    } finally {
      releaseLock()
    }
  }

  private async boot(timeoutMs: number): Promise<void> {
    prepareBase()
    const env = {
      ...process.env,
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(PORT),
      RABBITMQ_DIST_PORT: String(PORT + 20_000),
      RABBITMQ_MNESIA_BASE: join(BASE, 'mnesia'),
      RABBITMQ_LOG_BASE: join(BASE, 'log'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(BASE, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(BASE, 'rabbitmq'),
      RABBITMQ_PID_FILE: join(BASE, 'pid'),
      PATH: `${process.env.PATH ?? ''}:/usr/sbin`,
    }
    const child = spawn('rabbitmq-server', ['-detached'], { env, stdio: 'ignore' })
    await new Promise<void>((resolve, reject) => {
      child.on('error', (error) =>
        reject(new Error(`cannot start rabbitmq-server for the private node: ${error.message}`)),
      )
      child.on('exit', () => resolve())
    })
    await waitForPort(true, timeoutMs)
  }
}

const LOCK = `${BASE}.lock`

/** Waits for the lock directory (mkdir is atomic); a lock whose holder process is gone is broken. */
async function takeLock(timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    try {
      mkdirSync(LOCK)
      writeFileSync(join(LOCK, 'pid'), String(process.pid))
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const holder = lockHolder()
    // No pid yet: the holder is between mkdir and writing it, unless that was long ago.
    const stale = holder === undefined ? lockAgeMs() > 5000 : !alive(holder)
    if (stale) {
      rmSync(LOCK, { recursive: true, force: true })
      continue
    }
    if (performance.now() > deadline)
      throw new Error(`private RabbitMQ node: ${LOCK} held by process ${holder ?? '?'} for over ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

function lockHolder(): number | undefined {
  try {
    const pid = Number(readFileSync(join(LOCK, 'pid'), 'utf8'))
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function lockAgeMs(): number {
  try {
    return Date.now() - statSync(LOCK).mtimeMs
  } catch {
    return 0
  }
}

function releaseLock(): void {
  rmSync(LOCK, { recursive: true, force: true })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function prepareBase(): void {
  for (const dir of [BASE, join(BASE, 'mnesia'), join(BASE, 'log')]) mkdirSync(dir, { recursive: true })
  if (!existsSync(join(BASE, 'enabled_plugins'))) writeFileSync(join(BASE, 'enabled_plugins'), '[].\n')
  writeFileSync(join(BASE, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${PORT}\n`)
  // The Debian wrapper runs the server as the rabbitmq user: it must own its directories.
  const uid = rabbitmqUid()
  if (uid !== undefined && process.getuid?.() === 0)
    for (const dir of [BASE, join(BASE, 'mnesia'), join(BASE, 'log')]) chownSync(dir, uid.uid, uid.gid)
}

function rabbitmqUid(): { uid: number; gid: number } | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('rabbitmq:'))
    if (line === undefined) return undefined
    const [, , uid, gid] = line.split(':')
    return { uid: Number(uid), gid: Number(gid) }
  } catch {
    return undefined
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

async function waitForPort(open: boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while ((await portOpen(PORT)) !== open) {
    if (performance.now() > deadline)
      throw new Error(
        `private RabbitMQ node: port ${PORT} not ${open ? 'open' : 'closed'} within ${timeoutMs} ms (logs in ${BASE}/log)`,
      )
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
