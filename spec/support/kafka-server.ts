import { randomUUID } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Admin, Kafka, logLevel } from 'kafkajs'
import { freePort } from './brokers.js'
import { JvmProcess, runJavaTool, serverDir } from './jvm-server.js'
import { tempDir } from './temp-dir.js'
import { coordinatorOnly, passValue, replayedTest } from './worker-pass/pass-context.js'

/**
 * Apache Kafka in KRaft mode (servers/kafka/pom.xml): `nodes` combined broker+controller JVMs on free
 * loopback ports, storage formatted by Kafka's own StorageTool, each node with its own data directory.
 * Tuned to start fast on a small machine: 256 MiB heaps, serial GC, no initial rebalance delay, two
 * partitions for the offsets and transaction logs, timed-out transactions aborted within a second.
 */

/** A running Kafka cluster owned by one test file (or one benchmark, or the command line). */
export interface KafkaServer {
  /** Bootstrap addresses, '127.0.0.1:port', one per node. */
  readonly brokers: string[]
  /** Creates a topic with `partitions` (replication factor: every node, at most 3) and waits for its leaders. */
  createTopic(topic: string, partitions: number): Promise<void>
  /** Raises `topic`'s partition count to `count` and waits until every broker's metadata has them. */
  addPartitions(topic: string, count: number): Promise<void>
  /** Kills node `index` (0-based) with `signal` — SIGKILL: a crash — and waits for its exit. */
  stopNode(index: number, signal?: NodeJS.Signals): Promise<void>
  /** Starts node `index` again on its ports and data, and waits until it serves. */
  startNode(index: number): Promise<void>
  /** Stops every node and removes their data. */
  stop(): Promise<void>
  /** Lets this process exit while the nodes run (they die with it): for benchmarks. */
  unref(): void
}

/** Options of {@link startKafka}. */
export interface KafkaServerOptions {
  /** Nodes, each broker and controller; default 1 (3 for replication tests). */
  readonly nodes?: number
  /** Topics to create, name → partitions. */
  readonly topics?: Record<string, number>
  /** Broker settings added to (or overriding) the defaults, e.g. `{ 'transaction.max.timeout.ms': '5000' }`. */
  readonly properties?: Record<string, string>
  /** Heap of each node; default '256m'. */
  readonly heap?: string
  /**
   * JIT: 'quick' (default) compiles with C1 only, which starts a node in about half the CPU time —
   * tests; 'full' adds C2 for throughput — benchmarks.
   */
  readonly jit?: 'quick' | 'full'
}

/**
 * Starts a Kafka cluster and creates `topics`. Broker start takes about 3 s on 2 cores.
 *
 * In a worker of the worker-executor test pass replaying a test, the cluster is the coordinator's: the
 * worker starts nothing, gets the coordinator's bootstrap addresses (memory both threads share,
 * `passValue`), and its topic and node operations do nothing (`coordinatorOnly`). The worker takes no
 * further pass values here (temp directory, ports): call it last in its phase (a suite's `before`).
 *
 * @example
 * const kafka = await startKafka({ topics: { orders: 3 } })
 * try { … new Kafka({ brokers: kafka.brokers }) … } finally { await kafka.stop() }
 */
export async function startKafka(options: KafkaServerOptions = {}): Promise<KafkaServer> {
  const shared = new Uint8Array(passValue(() => new SharedArrayBuffer(1024)))
  if (replayedTest() !== undefined) return coordinatorsKafka(new TextDecoder().decode(shared).replace(/\0+$/, ''))
  let kafka: KafkaServer
  try {
    kafka = await startKafkaOnce(options)
  } catch (error) {
    // The ports are chosen free, then bound by the JVM a few seconds later: in between another
    // process (a client's ephemeral port) may take one. Once more on fresh ports, saying why.
    process.stderr.write(`kafka did not start, trying once more on other ports: ${String(error).slice(0, 2000)}\n`)
    kafka = await startKafkaOnce(options)
  }
  shared.set(new TextEncoder().encode(kafka.brokers.join(',')))
  return kafka
}

/** The coordinator's cluster as a replaying worker sees it: its addresses, and nothing to do. */
function coordinatorsKafka(brokers: string): KafkaServer {
  const nothing = (): Promise<void> => coordinatorOnly(async () => {}, undefined)
  return {
    brokers: brokers.split(','),
    createTopic: nothing,
    addPartitions: nothing,
    stopNode: nothing,
    startNode: nothing,
    stop: nothing,
    unref: () => {},
  }
}

async function startKafkaOnce(options: KafkaServerOptions): Promise<KafkaServer> {
  const { nodes: count = 1, topics = {}, properties = {}, heap = '256m', jit = 'quick' } = options
  const dir = tempDir('sluice-kafka-')
  const ports = await Promise.all(Array.from({ length: count * 2 }, () => freePort()))
  const brokerPort = (i: number): number => ports[2 * i]!
  const controllerPort = (i: number): number => ports[2 * i + 1]!
  const voters = Array.from({ length: count }, (_, i) => `${i + 1}@127.0.0.1:${controllerPort(i)}`).join(',')
  const replicas = Math.min(count, 3)
  const clusterId = Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url')
  const nodes = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const dataDir = join(dir.path, `node-${i + 1}`)
      mkdirSync(dataDir)
      const file = join(dataDir, 'server.properties')
      const settings: Record<string, string> = {
        'process.roles': 'broker,controller',
        'node.id': String(i + 1),
        'controller.quorum.voters': voters,
        listeners: `PLAINTEXT://127.0.0.1:${brokerPort(i)},CONTROLLER://127.0.0.1:${controllerPort(i)}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${brokerPort(i)}`,
        'controller.listener.names': 'CONTROLLER',
        'inter.broker.listener.name': 'PLAINTEXT',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
        'log.dirs': join(dataDir, 'log'),
        'auto.create.topics.enable': 'false',
        'num.partitions': '1',
        'default.replication.factor': String(replicas),
        'min.insync.replicas': String(Math.min(replicas, 2)),
        'offsets.topic.replication.factor': String(replicas),
        'offsets.topic.num.partitions': '2',
        'transaction.state.log.replication.factor': String(replicas),
        'transaction.state.log.min.isr': String(Math.min(replicas, 2)),
        'transaction.state.log.num.partitions': '2',
        'share.coordinator.state.topic.replication.factor': String(replicas),
        'share.coordinator.state.topic.min.isr': String(Math.min(replicas, 2)),
        'group.initial.rebalance.delay.ms': '0',
        // A killed node is fenced, and its partitions led elsewhere, 4 s after its last heartbeat (not 9 s).
        'broker.session.timeout.ms': '4000',
        'broker.heartbeat.interval.ms': '1000',
        'transaction.abort.timed.out.transaction.cleanup.interval.ms': '1000',
        'num.network.threads': '2',
        'num.io.threads': '2',
        'num.recovery.threads.per.data.dir': '1',
        ...properties,
      }
      writeFileSync(
        file,
        `${Object.entries(settings)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n')}\n`,
      )
      await runJavaTool('kafka', 'kafka.tools.StorageTool', [
        'format',
        '-t',
        clusterId,
        '-c',
        file,
        '--ignore-formatted',
      ])
      return new JvmProcess({
        server: 'kafka',
        label: `kafka node ${i + 1} (127.0.0.1:${brokerPort(i)})`,
        mainClass: 'kafka.Kafka',
        args: [file],
        jvmOptions: [
          `-Xms${heap}`,
          `-Xmx${heap}`,
          '-XX:+UseSerialGC',
          ...(jit === 'quick' ? ['-XX:TieredStopAtLevel=1'] : []),
          '-XX:-UsePerfData',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${join(serverDir('kafka'), 'log4j2.properties')}`,
        ],
        dataDir,
        readyLine: /Kafka Server started/,
        // Three nodes starting together on a loaded 2-core machine can take minutes.
        startTimeoutMs: 180_000,
      })
    }),
  )
  const brokers = Array.from({ length: count }, (_, i) => `127.0.0.1:${brokerPort(i)}`)
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.dispose()))
    dir.remove()
  }
  try {
    await Promise.all(nodes.map((node) => node.start()))
  } catch (error) {
    await stop()
    throw error
  }
  // A fresh admin client per call, disconnected after it: kafkajs's admin does not reliably connect
  // again after a disconnect, and a connected one would keep a benchmark's process from exiting.
  const withAdmin = async (work: (admin: Admin) => Promise<void>): Promise<void> => {
    const admin = new Kafka({ brokers, clientId: 'kafka-server', logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      await work(admin)
    } finally {
      await admin.disconnect()
    }
  }
  // kafkajs's own waitForLeaders gives up after a few retries, too soon on a loaded machine.
  const waitForLeaders = async (admin: Admin, topic: string, partitions: number): Promise<void> => {
    const deadline = performance.now() + 30_000
    for (;;) {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined)
      const led = metadata?.topics[0]?.partitions.filter((p) => p.leader >= 0).length
      if (led === partitions) return
      if (performance.now() > deadline)
        throw new Error(`kafka: ${topic} has no leaders for ${partitions} partitions after 30 s`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const createTopic = (topic: string, partitions: number): Promise<void> =>
    withAdmin(async (admin) => {
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: replicas }],
        waitForLeaders: false,
      })
      if (!created) throw new Error(`kafka: topic ${topic} exists already`)
      await waitForLeaders(admin, topic, partitions)
    })
  const addPartitions = (topic: string, count: number): Promise<void> =>
    withAdmin(async (admin) => {
      await admin.createPartitions({ topicPartitions: [{ topic, count }] })
      await waitForLeaders(admin, topic, count)
    })
  try {
    for (const [topic, partitions] of Object.entries(topics)) await createTopic(topic, partitions)
  } catch (error) {
    const logs = nodes.map((node) => `${node.options.label}:\n${node.log}`).join('\n')
    await stop()
    throw new Error(`kafka: creating the topics failed: ${(error as Error).message}\n${logs}`, { cause: error })
  }
  return {
    brokers,
    createTopic,
    addPartitions,
    stopNode: (index, signal = 'SIGKILL') => nodes[index]!.stop(signal),
    startNode: (index) => nodes[index]!.start(),
    stop,
    unref: () => {
      for (const node of nodes) node.unref()
    },
  }
}
