import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { userInfo } from 'node:os'
import { tempDir, type TempDir } from './temp-dir.js'

/**
 * Private brokers for connector tests: a `redis-server` or `mosquitto` of the test's own, on a free
 * loopback port, with its data in a temp directory, that the test can stop, kill and start again on
 * the same port and data (a broker restart mid-stream) without touching the machine's shared brokers.
 * Every broker still running when the process exits is killed.
 */

const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/**
 * A TCP port nothing listens on now (the OS picks it, then it is released).
 *
 * @example
 * const port = await freePort() // for a broker to start on, or for an "unreachable" test
 */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** Whether something accepts connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

function findBinary(name: string): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`
  return name
}

/** A broker process the test owns: start, stop (graceful), kill (SIGKILL), start again on the same port and data. */
abstract class PrivateBroker {
  protected child: ChildProcess | undefined
  protected output = ''
  /** How many times the process was started. */
  starts = 0

  protected constructor(readonly port: number, readonly dir: TempDir) {}

  protected abstract command(): { binary: string; args: string[] }
  protected abstract answers(): Promise<boolean>
  protected abstract readonly label: string

  /** Starts the process (again) and waits until it answers. */
  async start(): Promise<void> {
    if (this.child !== undefined) throw new Error(`${this.label} already running`)
    const { binary, args } = this.command()
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    this.starts++
    running.add(child)
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-4000)
    }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    let exited = false
    child.once('exit', () => {
      exited = true
      running.delete(child)
      if (this.child === child) this.child = undefined
    })
    child.once('error', (error) => {
      exited = true
      this.output += `\n${error.message}`
    })
    const deadline = performance.now() + 15_000
    while (!(await this.answers())) {
      if (exited || performance.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`${this.label} did not start on 127.0.0.1:${this.port}: ${this.output.trim()}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  /** Whether the process runs. */
  get running(): boolean {
    return this.child !== undefined
  }

  /** Stops the process with `signal` (SIGTERM: a clean shutdown that saves its data; SIGKILL: a crash) and waits for its exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (child === undefined) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    let timer: NodeJS.Timeout | undefined
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))])
    clearTimeout(timer)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
    this.child = undefined
  }

  /** Stops, and starts again on the same port with the same data directory. */
  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal)
    await this.start()
  }

  /** Stops the process and removes its data. */
  async dispose(): Promise<void> {
    await this.stop('SIGKILL')
    this.dir.remove()
  }
}

/** Options of {@link PrivateRedis}. */
export interface PrivateRedisOptions {
  /** Append-only file with fsync on every write, so a restart (even after SIGKILL) keeps what was acknowledged; default true. */
  appendOnly?: boolean
}

/**
 * A `redis-server` of the test's own on a free port.
 *
 * @example
 * const redis = await PrivateRedis.start()
 * try { … new Redis(redis.port) …; await redis.restart() } finally { await redis.dispose() }
 */
export class PrivateRedis extends PrivateBroker {
  protected readonly label = 'private redis-server'

  private constructor(port: number, dir: TempDir, private readonly options: PrivateRedisOptions) {
    super(port, dir)
  }

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const broker = new PrivateRedis(await freePort(), tempDir('sluice-redis-'), options)
    await broker.start()
    return broker
  }

  protected command(): { binary: string; args: string[] } {
    const aof = this.options.appendOnly ?? true
    return {
      binary: findBinary('redis-server'),
      args: ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--dir', this.dir.path, '--appendonly', aof ? 'yes' : 'no', '--appendfsync', 'always', '--daemonize', 'no', '--loglevel', 'warning'],
    }
  }

  protected answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: this.port })
      let reply = ''
      socket.setTimeout(1000, () => socket.destroy())
      socket.once('connect', () => socket.write('PING\r\n'))
      socket.on('data', (chunk) => {
        reply += chunk.toString('latin1')
        // while loading its data Redis answers -LOADING
        if (reply.includes('\r\n')) socket.destroy()
      })
      socket.once('close', () => resolve(reply.startsWith('+PONG')))
      socket.once('error', () => {})
    })
  }
}

/** Options of {@link PrivateMosquitto}. */
export interface PrivateMosquittoOptions {
  /** QoS 1/2 messages in flight to a client at once (`max_inflight_messages`, MQTT 3.1.1 clients); default 0 (no limit). */
  maxInflightMessages?: number
  /** Messages queued per client beyond those in flight; default 0 (no limit: the tests count every message). */
  maxQueuedMessages?: number
}

/**
 * A `mosquitto` of the test's own on a free port, persistence on (a clean stop writes its database,
 * which the next start reads: persistent sessions and their queued messages survive a restart).
 *
 * @example
 * const mosquitto = await PrivateMosquitto.start()
 * try { mqtt.connect(mosquitto.url) …; await mosquitto.restart() } finally { await mosquitto.dispose() }
 */
export class PrivateMosquitto extends PrivateBroker {
  protected readonly label = 'private mosquitto'

  private constructor(port: number, dir: TempDir, private readonly options: PrivateMosquittoOptions) {
    super(port, dir)
  }

  static async start(options: PrivateMosquittoOptions = {}): Promise<PrivateMosquitto> {
    const broker = new PrivateMosquitto(await freePort(), tempDir('sluice-mosquitto-'), options)
    await broker.start()
    return broker
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`
  }

  protected command(): { binary: string; args: string[] } {
    const conf = this.dir.file('mosquitto.conf')
    writeFileSync(conf, [
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${this.dir.path}/`,
      'autosave_interval 1800',
      `max_inflight_messages ${this.options.maxInflightMessages ?? 0}`,
      `max_queued_messages ${this.options.maxQueuedMessages ?? 0}`,
      // started as root mosquitto would drop to user "mosquitto", who cannot write the temp directory
      `user ${userInfo().username}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'))
    return { binary: findBinary('mosquitto'), args: ['-c', conf] }
  }

  protected answers(): Promise<boolean> {
    // An MQTT 3.1.1 CONNECT (clean session, empty client id) must get CONNACK 0.
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: this.port })
      let reply = Buffer.alloc(0)
      socket.setTimeout(1000, () => socket.destroy())
      socket.once('connect', () => socket.write(Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00])))
      socket.on('data', (chunk: Buffer) => {
        reply = Buffer.concat([reply, chunk])
        if (reply.length >= 4) socket.end(Buffer.from([0xe0, 0x00]))
      })
      socket.once('close', () => resolve(reply.length >= 4 && reply[0] === 0x20 && reply[3] === 0))
      socket.once('error', () => {})
    })
  }
}

/** The machine's shared brokers that scripts/services.sh starts. */
export const SHARED = {
  redis: { host: '127.0.0.1', port: 6379 },
  mosquitto: 'mqtt://127.0.0.1:1883',
  /** ActiveMQ's MQTT transport (scripts/services.d/40-activemq.sh); 1884 because Mosquitto has 1883. */
  activemqMqtt: 'mqtt://127.0.0.1:1884',
} as const
