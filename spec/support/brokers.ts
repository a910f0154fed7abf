import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { userInfo } from 'node:os'
import { tempDir, type TempDir } from './temp-dir.js'
import { passValue, replayedTest } from './worker-pass/pass-context.js'

/**
 * Private brokers for connector tests: a `redis-server` or `mosquitto` of the test's own, on a free
 * loopback port, with its data in a temp directory, that the test can stop, kill and start again on
 * the same port and data (a broker restart mid-stream) without touching the machine's shared brokers.
 * Every broker still running when the process exits is killed.
 */

/** Broker processes started and not yet exited, with their data directories. */
const running = new Map<ChildProcess, TempDir>()
const killAll = (): void => {
  for (const [child, dir] of running) {
    child.kill('SIGKILL')
    dir.remove()
  }
}
process.on('exit', killAll)
// a run stopped by a signal emits no 'exit': kill the brokers, then die of the same signal
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll()
    process.kill(process.pid, signal)
  })
}

/**
 * A TCP port nothing listens on now (the OS picks it, then it is released). In a worker of the
 * worker-executor test pass replaying a test, the coordinator's port of the same place (`passValue`):
 * the port of the broker the coordinator started, or the one its "unreachable" test names.
 *
 * @example
 * const port = await freePort() // for a broker to start on, or for an "unreachable" test
 */
export async function freePort(): Promise<number> {
  // the slot is taken at the call, so that concurrent calls keep their order in a replaying worker
  const slot = new Int32Array(passValue(() => new SharedArrayBuffer(4)))
  if (replayedTest() !== undefined) return Atomics.load(slot, 0)
  const port = await probeFreePort()
  Atomics.store(slot, 0, port)
  return port
}

async function probeFreePort(): Promise<number> {
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
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin'])
    if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`
  return name
}

/** A broker process the test owns: start, stop (graceful), kill (SIGKILL), start again on the same port and data. */
abstract class PrivateBroker {
  protected child: ChildProcess | undefined
  protected output = ''
  /** How many times the process was started. */
  starts = 0

  protected constructor(
    readonly port: number,
    readonly dir: TempDir,
  ) {}

  protected abstract command(): { binary: string; args: string[] }
  protected abstract answers(): Promise<boolean>
  protected abstract readonly label: string

  /** Starts the process (again) and waits until it answers. */
  async start(): Promise<void> {
    // a worker of the worker-executor test pass replaying a test: the broker is the coordinator's (its
    // port and directory are the coordinator's, see freePort), which the coordinator starts and stops
    if (replayedTest() !== undefined) return
    if (this.child !== undefined) throw new Error(`${this.label} already running`)
    const { binary, args } = this.command()
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    this.starts++
    running.set(child, this.dir)
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

  /**
   * Lets this process exit while the broker runs (it is still killed on exit): for a benchmark case,
   * which has no teardown.
   */
  unref(): void {
    const child = this.child
    if (child === undefined) return
    child.unref()
    for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.()
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
  /** Further redis-server arguments (`['--cluster-enabled', 'yes']`). */
  args?: string[]
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

  private constructor(
    port: number,
    dir: TempDir,
    private readonly options: PrivateRedisOptions,
  ) {
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
      args: [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--dir',
        this.dir.path,
        '--appendonly',
        aof ? 'yes' : 'no',
        '--appendfsync',
        'always',
        '--daemonize',
        'no',
        '--loglevel',
        'warning',
        ...(this.options.args ?? []),
      ],
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

/**
 * A Redis Cluster of the test's own: `masters` redis-servers on free ports with cluster mode on, joined
 * with `redis-cli --cluster create` (no replicas), ready when every node reports `cluster_state:ok`.
 *
 * @example
 * const cluster = await PrivateRedisCluster.start(3)
 * try { new Cluster(cluster.nodes) … } finally { await cluster.dispose() }
 */
export class PrivateRedisCluster {
  private constructor(readonly servers: PrivateRedis[]) {}

  static async start(masters = 3): Promise<PrivateRedisCluster> {
    const servers: PrivateRedis[] = []
    try {
      for (let i = 0; i < masters; i++)
        servers.push(
          await PrivateRedis.start({
            appendOnly: false,
            args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'],
          }),
        )
      const cluster = new PrivateRedisCluster(servers)
      // a worker replaying a test: the servers are the coordinator's, which joined them into the cluster
      if (replayedTest() !== undefined) return cluster
      await run(findBinary('redis-cli'), [
        '--cluster',
        'create',
        ...cluster.nodes.map((n) => `${n.host}:${n.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ])
      const deadline = performance.now() + 15_000
      for (const node of cluster.nodes) {
        while (
          !(await run(findBinary('redis-cli'), ['-p', String(node.port), 'cluster', 'info'])).includes(
            'cluster_state:ok',
          )
        ) {
          if (performance.now() > deadline)
            throw new Error(`the private cluster did not become ready (node ${node.port})`)
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
      return cluster
    } catch (error) {
      for (const server of servers) await server.dispose()
      throw error
    }
  }

  get nodes(): { host: string; port: number }[] {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }))
  }

  async dispose(): Promise<void> {
    for (const server of this.servers) await server.dispose()
  }
}

/**
 * A Redis master with one Sentinel of the test's own monitoring it as `mymaster` (quorum 1).
 *
 * @example
 * const sentinel = await PrivateRedisSentinel.start()
 * try { new Redis({ sentinels: [sentinel.sentinel], name: 'mymaster' }) … } finally { await sentinel.dispose() }
 */
export class PrivateRedisSentinel extends PrivateBroker {
  protected readonly label = 'private redis-sentinel'
  readonly masterName = 'mymaster'

  private constructor(
    port: number,
    dir: TempDir,
    readonly master: PrivateRedis,
  ) {
    super(port, dir)
  }

  static async start(): Promise<PrivateRedisSentinel> {
    const master = await PrivateRedis.start({ appendOnly: false })
    const broker = new PrivateRedisSentinel(await freePort(), tempDir('sluice-sentinel-'), master)
    // a worker replaying a test: the sentinel is the coordinator's, which saw it know the master
    if (replayedTest() !== undefined) return broker
    try {
      await broker.start()
      const deadline = performance.now() + 15_000
      while (
        !(
          await run(findBinary('redis-cli'), [
            '-p',
            String(broker.port),
            'sentinel',
            'get-master-addr-by-name',
            broker.masterName,
          ])
        ).includes(String(master.port))
      ) {
        if (performance.now() > deadline) throw new Error('the sentinel does not know the master')
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    } catch (error) {
      await broker.dispose()
      throw error
    }
    return broker
  }

  /** The sentinel's address. */
  get sentinel(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.port }
  }

  protected command(): { binary: string; args: string[] } {
    // Sentinel rewrites its configuration file: it lives in the temp directory
    const conf = this.dir.file('sentinel.conf')
    writeFileSync(
      conf,
      [
        `port ${this.port}`,
        'bind 127.0.0.1',
        `dir ${this.dir.path}`,
        `sentinel monitor ${this.masterName} 127.0.0.1 ${this.master.port} 1`,
        '',
      ].join('\n'),
    )
    return { binary: findBinary('redis-server'), args: [conf, '--sentinel'] }
  }

  protected answers(): Promise<boolean> {
    return run(findBinary('redis-cli'), ['-p', String(this.port), 'ping']).then(
      (out) => out.includes('PONG'),
      () => false,
    )
  }

  override async dispose(): Promise<void> {
    await super.dispose()
    await this.master.dispose()
  }
}

function run(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')))
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${binary} ${args.join(' ')} exited ${code}: ${out}`)),
    )
  })
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

  private constructor(
    port: number,
    dir: TempDir,
    private readonly options: PrivateMosquittoOptions,
  ) {
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
    writeFileSync(
      conf,
      [
        `listener ${this.port} 127.0.0.1`,
        'allow_anonymous true',
        'persistence true',
        `persistence_location ${this.dir.path}/`,
        'autosave_interval 1800',
        `max_inflight_messages ${this.options.maxInflightMessages ?? 0}`,
        `max_queued_messages ${this.options.maxQueuedMessages ?? 0}`,
        // without it Nagle holds small packets (PUBACKs) back behind the client's delayed ACKs: ~40 ms each
        'set_tcp_nodelay true',
        // started as root mosquitto would drop to user "mosquitto", who cannot write the temp directory
        `user ${userInfo().username}`,
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
    )
    return { binary: findBinary('mosquitto'), args: ['-c', conf] }
  }

  protected answers(): Promise<boolean> {
    // An MQTT 3.1.1 CONNECT (clean session, empty client id) must get CONNACK 0.
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: this.port })
      let reply = Buffer.alloc(0)
      socket.setTimeout(1000, () => socket.destroy())
      socket.once('connect', () =>
        socket.write(Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00])),
      )
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
