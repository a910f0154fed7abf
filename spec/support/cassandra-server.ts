import { mkdirSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { freePort } from './brokers.js'
import { JvmProcess, serverClasspath, serverDir } from './jvm-server.js'
import { tempDir } from './temp-dir.js'
import { coordinatorOnly, passValue, replayedTest } from './worker-pass/pass-context.js'

/**
 * Apache Cassandra 4.1 (servers/cassandra/pom.xml): one node started through its daemon
 * (`org.apache.cassandra.service.CassandraDaemon`) with a minimal cassandra.yaml in a temp directory,
 * on free loopback ports (native protocol and storage), no JMX (no `cassandra.jmx.*.port` property),
 * a 512 MiB heap with the serial collector and C1 only, gossip settle and ring delays cut, and the
 * Java 17 module flags of Cassandra's own conf/jvm17-server.options. Ready when it logs that it
 * listens for CQL clients (about 15–40 s on 2 cores).
 */

/** The Java 17 flags Cassandra 4.1 runs with (conf/jvm17-server.options of its distribution). */
const JAVA17_FLAGS = [
  '-Djdk.attach.allowAttachSelf=true',
  '--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-exports=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-exports=java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED',
  '--add-exports=java.rmi/sun.rmi.server=ALL-UNNAMED',
  '--add-exports=java.sql/java.sql=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.reflect=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.math=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.module=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.util.jar=ALL-UNNAMED',
  '--add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-opens=java.base/java.io=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED',
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.math=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=java.base/java.net=ALL-UNNAMED',
]

/** A running Cassandra node owned by one test file (or one benchmark, or the command line). */
export interface CassandraServer {
  /** The native protocol address, '127.0.0.1:port'. */
  readonly contactPoint: string
  /** The node's data center, for the driver's `localDataCenter`. */
  readonly dataCenter: string
  /** Pauses the node (SIGSTOP): connections stay open and every request times out. */
  pause(): void
  /** Resumes a paused node (SIGCONT). */
  resume(): void
  /** Stops the node with `signal` (SIGKILL: a crash) and waits for its exit. */
  stopNode(signal?: NodeJS.Signals): Promise<void>
  /** Starts the node again on its ports and data, and waits until it answers CQL. */
  startNode(): Promise<void>
  /** Stops the node and removes its data. */
  stop(): Promise<void>
  /** Lets this process exit while the node runs (it dies with it): for benchmarks. */
  unref(): void
}

/** Options of {@link startCassandra}. */
export interface CassandraServerOptions {
  /** Heap; default '512m'. */
  readonly heap?: string
  /** cassandra.yaml settings added to (or overriding) the defaults, e.g. `{ write_request_timeout: '500ms' }`. */
  readonly settings?: Record<string, string>
  /** JIT: 'quick' (default, C1 only: starts in less CPU) or 'full' (C2 too: benchmarks). */
  readonly jit?: 'quick' | 'full'
}

/** The data center the node reports (the simple snitch's). */
const DATA_CENTER = 'datacenter1'

/**
 * Starts a single Cassandra node on free loopback ports. In a worker of the worker-executor test pass
 * replaying a test, the node is the coordinator's: the worker gets its port (`passValue`) and starts
 * no JVM; stopping and starting the node are the coordinator's to do.
 *
 * @example
 * const cassandra = await startCassandra()
 * try { … new Client({ contactPoints: [cassandra.contactPoint], localDataCenter: cassandra.dataCenter }) … }
 * finally { await cassandra.stop() }
 */
export async function startCassandra(options: CassandraServerOptions = {}): Promise<CassandraServer> {
  // the native port, in a slot taken at the call (so that concurrent calls keep their order in a replaying worker)
  const port = new Int32Array(passValue(() => new SharedArrayBuffer(4)))
  if (replayedTest() !== undefined) return coordinatorsNode(Atomics.load(port, 0))
  const started = await startWithRetry(options)
  Atomics.store(port, 0, Number(started.contactPoint.split(':')[1]))
  return started
}

/** A replaying worker's view of the coordinator's node on `port`: it starts, stops and signals nothing. */
function coordinatorsNode(port: number): CassandraServer {
  return {
    contactPoint: `127.0.0.1:${port}`,
    dataCenter: DATA_CENTER,
    pause: () => {},
    resume: () => {},
    stopNode: () => coordinatorOnly(() => Promise.resolve(), undefined),
    startNode: () => coordinatorOnly(() => Promise.resolve(), undefined),
    stop: async () => {},
    unref: () => {},
  }
}

async function startWithRetry(options: CassandraServerOptions): Promise<CassandraServer> {
  // A free port can be taken by another process between the check and the JVM's bind (a shared
  // machine): a node that fails to start is tried once more on new ports.
  try {
    return await startOnce(options)
  } catch (error) {
    console.error(`cassandra: first start failed, trying again on new ports: ${String(error).slice(-2000)}`)
    return startOnce(options)
  }
}

async function startOnce(options: CassandraServerOptions): Promise<CassandraServer> {
  const { heap = '512m', settings = {}, jit = 'quick' } = options
  const dir = tempDir('sluice-cassandra-')
  const [nativePort, storagePort] = await Promise.all([freePort(), freePort()])
  const data = (name: string): string => {
    const path = join(dir.path, name)
    mkdirSync(path, { recursive: true })
    return path
  }
  const yaml: Record<string, string> = {
    cluster_name: "'sluice'",
    num_tokens: '1',
    initial_token: '0',
    partitioner: 'org.apache.cassandra.dht.Murmur3Partitioner',
    authenticator: 'AllowAllAuthenticator',
    authorizer: 'AllowAllAuthorizer',
    commitlog_sync: 'periodic',
    commitlog_sync_period: '10000ms',
    commitlog_segment_size: '8MiB',
    seed_provider: `\n  - class_name: org.apache.cassandra.locator.SimpleSeedProvider\n    parameters:\n      - seeds: "127.0.0.1:${storagePort}"`,
    endpoint_snitch: 'SimpleSnitch',
    listen_address: '127.0.0.1',
    rpc_address: '127.0.0.1',
    storage_port: String(storagePort),
    native_transport_port: String(nativePort),
    start_native_transport: 'true',
    data_file_directories: `\n  - ${data('data')}`,
    commitlog_directory: data('commitlog'),
    saved_caches_directory: data('saved_caches'),
    hints_directory: data('hints'),
    cdc_raw_directory: data('cdc_raw'),
    concurrent_reads: '4',
    concurrent_writes: '8',
    concurrent_counter_writes: '4',
    concurrent_compactors: '1',
    memtable_heap_space: '64MiB',
    memtable_offheap_space: '64MiB',
    key_cache_size: '0MiB',
    counter_cache_size: '0MiB',
    prepared_statements_cache_size: '8MiB',
    auto_snapshot: 'false',
    snapshot_on_duplicate_row_detection: 'false',
    hinted_handoff_enabled: 'false',
    dynamic_snitch: 'false',
    ...settings,
  }
  writeFileSync(
    join(dir.path, 'cassandra.yaml'),
    `${Object.entries(yaml)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n')}\n`,
  )
  // Cassandra measures its prepared statements with jamm: without jamm as a Java agent, jamm falls back to
  // Unsafe, which cannot measure Java 17's hidden (lambda) classes, and the node fails its startup checks.
  const jamm = (await serverClasspath('cassandra')).split(':').find((jar) => /\/jamm-[^/]+\.jar$/.test(jar))
  if (jamm === undefined) throw new Error('cassandra: no jamm jar on the classpath of servers/cassandra/pom.xml')
  const node = new JvmProcess({
    server: 'cassandra',
    label: `cassandra (127.0.0.1:${nativePort})`,
    mainClass: 'org.apache.cassandra.service.CassandraDaemon',
    args: [],
    jvmOptions: [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      '-Xss512k',
      '-XX:+UseSerialGC',
      ...(jit === 'quick' ? ['-XX:TieredStopAtLevel=1'] : []),
      '-XX:-UsePerfData',
      '-Djava.awt.headless=true',
      ...JAVA17_FLAGS,
      `-javaagent:${jamm}`,
      `-Dcassandra.config=file://${join(dir.path, 'cassandra.yaml')}`,
      `-Dcassandra.storagedir=${dir.path}`,
      `-Dlogback.configurationFile=${join(serverDir('cassandra'), 'logback.xml')}`,
      '-Dcassandra-foreground=yes',
      '-Dcassandra.skip_wait_for_gossip_to_settle=0',
      '-Dcassandra.ring_delay_ms=100',
      '-Dcassandra.superuser_setup_delay_ms=0',
      '-Dcassandra.load_ring_state=false',
      '-Dcassandra.native.epoll.enabled=false',
    ],
    dataDir: dir.path,
    readyLine: /Starting listening for CQL clients/,
    startTimeoutMs: 180_000,
  })
  const stop = async (): Promise<void> => {
    await node.dispose()
    dir.remove()
  }
  try {
    await node.start()
    await untilAccepting(nativePort, node)
  } catch (error) {
    await stop()
    throw error
  }
  const signal = (name: NodeJS.Signals): void => {
    const pid = node.pid
    if (pid !== undefined) process.kill(pid, name)
  }
  return {
    contactPoint: `127.0.0.1:${nativePort}`,
    dataCenter: DATA_CENTER,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stopNode: async (name = 'SIGKILL') => {
      signal('SIGCONT')
      await node.stop(name)
    },
    startNode: () => node.start(),
    stop: async () => {
      signal('SIGCONT')
      await stop()
    },
    unref: () => node.unref(),
  }
}

/**
 * Cassandra logs that it listens for CQL clients just before its native transport binds: wait until the
 * port accepts connections (a client connecting at once was refused now and then).
 */
async function untilAccepting(port: number, node: JvmProcess): Promise<void> {
  const deadline = performance.now() + 60_000
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (accepted) return
    if (!node.running || performance.now() > deadline)
      throw new Error(`cassandra: port ${port} does not accept connections: ${node.log.slice(-2000)}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
