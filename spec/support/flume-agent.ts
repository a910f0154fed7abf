import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, portOpen } from './brokers.js'
import { JvmProcess, serverDir } from './jvm-server.js'
import { tempDir } from './temp-dir.js'
import { waitFor } from './wait-for.js'
import { coordinatorOnly, replayedTest } from './worker-pass/pass-context.js'

/**
 * A real Apache Flume agent (servers/flume/pom.xml, flume-ng-node 1.11): an Avro source and an HTTP
 * source (JSONHandler) on free loopback ports, one channel, and a file_roll sink writing every event as
 * a line `{headers} body` (Flume's header_and_text serializer) into the agent's own directory, which
 * the test reads back. The file channel (default) keeps what the sources accepted across a SIGKILL, so
 * an agent killed mid-stream and started again loses nothing it acknowledged.
 */

/** One event as the agent's file_roll sink wrote it. */
export interface RolledEvent {
  readonly headers: Record<string, string>
  readonly body: string
}

/** What the agent's sink wrote so far. */
export interface RolledOutput {
  readonly events: RolledEvent[]
  /** Lines cut short by a kill in the middle of a write (the event is delivered again after the restart). */
  readonly tornLines: number
}

/** A running Flume agent owned by one test file (or a benchmark). */
export interface FlumeAgent {
  /** '127.0.0.1:port' of the Avro source. */
  readonly avro: string
  /** '127.0.0.1:port' of the HTTP source. */
  readonly http: string
  /** Every event the sink wrote, over all the agent's runs, in file order. */
  output(): RolledOutput
  /** Waits until the sink wrote at least `count` events. */
  waitForEvents(count: number, timeoutMs?: number): Promise<RolledOutput>
  /** Stops the agent with `signal` (SIGKILL: a crash) and waits for its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Starts the agent again on the same ports, channel and output, and waits until both sources answer. */
  restart(): Promise<void>
  /** Stops the agent (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>
  /** Lets this process exit while the agent runs (it dies with it): for benchmarks. */
  unref(): void
}

/** Options of {@link startFlumeAgent}. */
export interface FlumeAgentOptions {
  /** 'file' (default): durable across a kill. 'memory': faster, loses its content with the process. */
  readonly channel?: 'file' | 'memory'
  /** Heap; default '256m'. */
  readonly heap?: string
}

/**
 * Starts a Flume agent and waits until its Avro and HTTP ports accept connections (about 3 s). In a
 * worker of the worker-executor test pass replaying a test, the agent is the coordinator's: the worker
 * gets its directory and ports (`tempDir`, `freePort`: taken at the call, in the same order on both
 * threads, so that concurrent starts keep their order) and starts no JVM; killing, restarting and
 * stopping the agent are the coordinator's to do.
 *
 * @example
 * const agent = await startFlumeAgent()
 * try { … flumeSink({ hosts: [agent.avro], … }) …; (await agent.waitForEvents(100)).events } finally { await agent.stop() }
 */
export async function startFlumeAgent(options: FlumeAgentOptions = {}): Promise<FlumeAgent> {
  const { channel = 'file', heap = '256m' } = options
  const dir = tempDir('sluice-flume-')
  const [avroPort, httpPort] = await Promise.all([freePort(), freePort()])
  const out = join(dir.path, 'out')
  const output = (): RolledOutput => readRolled(out)
  if (replayedTest() !== undefined) return coordinatorsAgent(avroPort, httpPort, output)
  for (const sub of ['out', 'checkpoint', 'data']) mkdirSync(join(dir.path, sub))
  const settings: Record<string, string> = {
    'agent.sources': 'avro http',
    'agent.channels': 'ch',
    'agent.sinks': 'roll',
    'agent.sources.avro.type': 'avro',
    'agent.sources.avro.bind': '127.0.0.1',
    'agent.sources.avro.port': String(avroPort),
    'agent.sources.avro.channels': 'ch',
    'agent.sources.http.type': 'http',
    'agent.sources.http.bind': '127.0.0.1',
    'agent.sources.http.port': String(httpPort),
    'agent.sources.http.channels': 'ch',
    'agent.sources.http.handler': 'org.apache.flume.source.http.JSONHandler',
    ...(channel === 'file'
      ? {
          'agent.channels.ch.type': 'file',
          'agent.channels.ch.checkpointDir': join(dir.path, 'checkpoint'),
          'agent.channels.ch.dataDirs': join(dir.path, 'data'),
          'agent.channels.ch.transactionCapacity': '10000',
        }
      : {
          'agent.channels.ch.type': 'memory',
          'agent.channels.ch.capacity': '100000',
          'agent.channels.ch.transactionCapacity': '10000',
        }),
    'agent.sinks.roll.type': 'file_roll',
    'agent.sinks.roll.channel': 'ch',
    'agent.sinks.roll.sink.directory': out,
    'agent.sinks.roll.sink.rollInterval': '0',
    'agent.sinks.roll.sink.serializer': 'header_and_text',
    'agent.sinks.roll.sink.batchSize': '1000',
  }
  const conf = join(dir.path, 'agent.conf')
  writeFileSync(
    conf,
    `${Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n')}\n`,
  )
  const jvm = new JvmProcess({
    server: 'flume',
    label: `flume agent (avro 127.0.0.1:${avroPort}, http 127.0.0.1:${httpPort})`,
    mainClass: 'org.apache.flume.node.Application',
    args: ['-f', conf, '-n', 'agent'],
    jvmOptions: [
      `-Xms${heap}`,
      `-Xmx${heap}`,
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-XX:-UsePerfData',
      `-Dlog4j2.configurationFile=${join(serverDir('flume'), 'log4j2.properties')}`,
    ],
    dataDir: dir.path,
    readyLine: /name: (avro|http) started[\s\S]*name: (avro|http) started/,
    startTimeoutMs: 120_000,
  })
  const start = async (): Promise<void> => {
    await jvm.start()
    for (const port of [avroPort, httpPort]) {
      const deadline = performance.now() + 30_000
      while (!(await portOpen(port))) {
        if (performance.now() > deadline) throw new Error(`flume agent: port ${port} does not answer: ${jvm.log}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
  }
  try {
    await start()
  } catch (error) {
    await jvm.dispose()
    throw error
  }
  return {
    avro: `127.0.0.1:${avroPort}`,
    http: `127.0.0.1:${httpPort}`,
    output,
    waitForEvents: (count, timeoutMs) => waitForRolled(output, count, timeoutMs),
    kill: (signal = 'SIGKILL') => jvm.stop(signal),
    restart: start,
    stop: async () => {
      await jvm.stop('SIGTERM')
      await jvm.dispose()
    },
    unref: () => jvm.unref(),
  }
}

/** A replaying worker's view of the coordinator's agent: it starts, kills and stops nothing. */
function coordinatorsAgent(avroPort: number, httpPort: number, output: () => RolledOutput): FlumeAgent {
  return {
    avro: `127.0.0.1:${avroPort}`,
    http: `127.0.0.1:${httpPort}`,
    output,
    waitForEvents: (count, timeoutMs) => waitForRolled(output, count, timeoutMs),
    kill: () => coordinatorOnly(() => Promise.resolve(), undefined),
    restart: () => coordinatorOnly(() => Promise.resolve(), undefined),
    stop: async () => {},
    unref: () => {},
  }
}

/** Waits until the sink wrote at least `count` events (60 s by default) and returns what it wrote. */
async function waitForRolled(output: () => RolledOutput, count: number, timeoutMs = 60_000): Promise<RolledOutput> {
  let last = output()
  await waitFor(() => (last = output()).events.length >= count, {
    timeoutMs,
    intervalMs: 100,
    description: () => `${count} events in the flume agent's output (has ${last.events.length})`,
  })
  return last
}

/** Reads the file_roll sink's files (named `<start millis>-<n>`, so in write order when sorted by both). */
function readRolled(directory: string): RolledOutput {
  if (!existsSync(directory)) return { events: [], tornLines: 0 }
  const files = readdirSync(directory).sort((a, b) => {
    const [a0, a1] = a.split('-').map(Number)
    const [b0, b1] = b.split('-').map(Number)
    return a0! - b0! || a1! - b1!
  })
  const events: RolledEvent[] = []
  let tornLines = 0
  for (const file of files) {
    const text = readFileSync(join(directory, file), 'utf8')
    const lines = text.split('\n')
    // The last element is '' after a complete line, or a line the kill cut short.
    if (lines.pop() !== '') tornLines++
    for (const line of lines) events.push(parseLine(line))
  }
  return { events, tornLines }
}

/** `{k1=v1, k2=v2} body` (Java's Map.toString, a space, the body as UTF-8). */
function parseLine(line: string): RolledEvent {
  const end = line.indexOf('} ')
  const headers: Record<string, string> = {}
  const inner = line.slice(1, end)
  if (inner !== '')
    for (const pair of inner.split(', ')) {
      const eq = pair.indexOf('=')
      headers[pair.slice(0, eq)] = pair.slice(eq + 1)
    }
  return { headers, body: line.slice(end + 2) }
}
