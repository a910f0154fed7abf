import { join } from 'node:path'
import { userInfo } from 'node:os'
import { freePort } from './brokers.js'
import { JvmProcess, serverDir } from './jvm-server.js'
import { tempDir } from './temp-dir.js'
import { coordinatorOnly, replayedTest } from './worker-pass/pass-context.js'

/**
 * Apache HDFS (servers/hdfs/pom.xml: the shaded hadoop-client-minicluster): one NameNode and one
 * DataNode in one JVM (servers/hdfs/HdfsLauncher.java, a MiniDFSCluster), WebHDFS on, every address on
 * 127.0.0.1 at free ports, 1 MiB blocks and replication 1. Ready once the launcher says so and WebHDFS
 * answers a GETFILESTATUS of '/'. Starting takes 10–20 s on 2 cores (more on a loaded machine).
 */

/** A running HDFS owned by one test file (or one benchmark). */
export interface HdfsServer {
  /** The NameNode's WebHDFS base, 'http://127.0.0.1:port' (paths go under `/webhdfs/v1`). */
  readonly webHdfsUrl: string
  /** The NameNode's RPC address, 'hdfs://127.0.0.1:port'. */
  readonly nameNodeUrl: string
  /** The user the JVM runs as: HDFS's superuser, for `user.name`. */
  readonly superuser: string
  /** Restarts the NameNode in the running cluster (same ports, same metadata) and waits until it serves. */
  restartNameNode(): Promise<void>
  /** Restarts the DataNode (same ports, same blocks) and waits until the NameNode sees it again. */
  restartDataNode(): Promise<void>
  /** Stops the DataNode (writes then fail: no DataNode to redirect to); {@link startDataNode} brings it back. */
  stopDataNode(): Promise<void>
  startDataNode(): Promise<void>
  /** Crashes the whole cluster (SIGKILL) and starts it again over the same storage and ports. */
  crashAndRestart(): Promise<void>
  /** Stops the cluster and removes its storage. */
  stop(): Promise<void>
  /** Lets this process exit while the cluster runs (it dies with it): for benchmarks. */
  unref(): void
}

/** Options of {@link startHdfs}. */
export interface HdfsServerOptions {
  /** Heap of the JVM; default '384m'. */
  readonly heap?: string
  /** JIT: 'quick' (default, C1 only: faster start) for tests; 'full' for benchmarks. */
  readonly jit?: 'quick' | 'full'
}

/**
 * Starts a one-DataNode HDFS with WebHDFS. In a worker of the worker-executor test pass replaying a
 * test, the cluster is the coordinator's: the worker gets its directory and ports (`tempDir`,
 * `freePort`, taken at the call in the same order on both threads) and starts no JVM; restarting,
 * crashing and stopping the cluster are the coordinator's to do.
 *
 * @example
 * const hdfs = await startHdfs()
 * try { … webHdfs({ url: hdfs.webHdfsUrl, user: hdfs.superuser }) … } finally { await hdfs.stop() }
 */
export async function startHdfs(options: HdfsServerOptions = {}): Promise<HdfsServer> {
  const { heap = '384m', jit = 'quick' } = options
  const dir = tempDir('sluice-hdfs-')
  const [rpc, http, dataPort, dataHttp, dataIpc] = await Promise.all(Array.from({ length: 5 }, () => freePort()))
  if (replayedTest() !== undefined) return coordinatorsCluster(rpc!, http!)
  const jvm = new JvmProcess({
    server: 'hdfs',
    label: `hdfs (webhdfs 127.0.0.1:${http})`,
    mainClass: join(serverDir('hdfs'), 'HdfsLauncher.java'),
    args: [dir.path, String(rpc), String(http), String(dataPort), String(dataHttp), String(dataIpc)],
    jvmOptions: [
      `-Xmx${heap}`,
      '-XX:+UseSerialGC',
      ...(jit === 'quick' ? ['-XX:TieredStopAtLevel=1'] : []),
      '-XX:-UsePerfData',
      '-Djava.awt.headless=true',
    ],
    dataDir: dir.path,
    readyLine: /HDFS ready webhdfs=/,
    startTimeoutMs: 180_000,
    stdin: true,
  })
  const stop = async (): Promise<void> => {
    await jvm.dispose()
    dir.remove()
  }
  const webHdfsUrl = `http://127.0.0.1:${http}`
  const start = async (): Promise<void> => {
    await jvm.start()
    await webHdfsAnswers(webHdfsUrl)
  }
  try {
    await start()
  } catch (error) {
    await stop()
    throw error
  }
  const command = async (name: string): Promise<void> => {
    const answer = await jvm.send(name, new RegExp(`(done|failed) ${name}`))
    if (answer.includes(`failed ${name}`)) throw new Error(`hdfs: ${answer.slice(-2000)}`)
  }
  return {
    webHdfsUrl,
    nameNodeUrl: `hdfs://127.0.0.1:${rpc}`,
    superuser: userInfo().username,
    restartNameNode: async () => {
      await command('restart-namenode')
      await webHdfsAnswers(webHdfsUrl)
    },
    restartDataNode: () => command('restart-datanode'),
    stopDataNode: () => command('stop-datanode'),
    startDataNode: () => command('start-datanode'),
    crashAndRestart: async () => {
      await jvm.stop('SIGKILL')
      await start()
    },
    stop,
    unref: () => jvm.unref(),
  }
}

/** A replaying worker's view of the coordinator's cluster: it starts, restarts and stops nothing. */
function coordinatorsCluster(rpc: number, http: number): HdfsServer {
  const coordinators = () => coordinatorOnly(() => Promise.resolve(), undefined)
  return {
    webHdfsUrl: `http://127.0.0.1:${http}`,
    nameNodeUrl: `hdfs://127.0.0.1:${rpc}`,
    superuser: userInfo().username,
    restartNameNode: coordinators,
    restartDataNode: coordinators,
    stopDataNode: coordinators,
    startDataNode: coordinators,
    crashAndRestart: coordinators,
    stop: async () => {},
    unref: () => {},
  }
}

/** Waits (at most 60 s) until the NameNode's WebHDFS answers a GETFILESTATUS of '/' with 200. */
async function webHdfsAnswers(webHdfsUrl: string): Promise<void> {
  const deadline = performance.now() + 60_000
  let last = ''
  for (;;) {
    try {
      const answer = await fetch(`${webHdfsUrl}/webhdfs/v1/?op=GETFILESTATUS`, { signal: AbortSignal.timeout(5_000) })
      last = `${answer.status} ${(await answer.text()).slice(0, 200)}`
      if (answer.status === 200) return
    } catch (error) {
      last = (error as Error).message
    }
    if (performance.now() > deadline) throw new Error(`hdfs: WebHDFS at ${webHdfsUrl} does not answer: ${last}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
