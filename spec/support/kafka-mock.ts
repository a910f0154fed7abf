import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SOURCE = `${ROOT}scripts/kafka-mock/kafka-mock.c`
const BUILD = `${ROOT}scripts/kafka-mock/build`
const BINARY = `${BUILD}/kafka-mock`

/** A running mock Kafka cluster (librdkafka's mock brokers) owned by one test file. */
export interface KafkaMock {
  /** Bootstrap addresses, 'host:port'. */
  readonly brokers: string[]
  /** Creates a topic (the mock has no CreateTopics API). */
  createTopic(topic: string, partitions: number): Promise<void>
  /** Disconnects a broker and refuses connections (-1: all); `up` undoes it. */
  down(brokerId: number): Promise<void>
  up(brokerId: number): Promise<void>
  stop(): Promise<void>
  /** Lets this process exit while the brokers run (they exit with it): for benchmarks. */
  unref(): void
}

/**
 * The launcher binary, compiled from scripts/kafka-mock/kafka-mock.c when missing or older than its
 * source. Needs gcc and librdkafka-dev (scripts/services.d/50-kafka-mock.sh installs them).
 *
 * @example
 * const path = kafkaMockBinary()
 */
export function kafkaMockBinary(): string {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return BINARY
  mkdirSync(BUILD, { recursive: true })
  try {
    execFileSync('gcc', ['-O2', '-o', BINARY, SOURCE, '-lrdkafka'], { stdio: 'pipe' })
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '')
    throw new Error(
      `cannot compile the Kafka mock launcher (needs gcc and librdkafka-dev: run scripts/services.d/50-kafka-mock.sh): ${stderr || (error as Error).message}`,
    )
  }
  return BINARY
}

/**
 * Starts a mock cluster of `brokers` brokers with `topics` (name → partitions). It exits when this
 * process does (its standard input closes).
 *
 * @example
 * const kafka = await startKafkaMock({ topics: { orders: 3 } })
 * try { ... new Kafka({ brokers: kafka.brokers }) ... } finally { await kafka.stop() }
 */
export async function startKafkaMock(
  options: { brokers?: number; topics?: Record<string, number> } = {},
): Promise<KafkaMock> {
  const { brokers = 1, topics = {} } = options
  const child = spawn(
    kafkaMockBinary(),
    ['--brokers', String(brokers), ...Object.entries(topics).map(([t, n]) => `${t}:${n}`)],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t))
  const lines = lineReader(child)
  const first = await Promise.race([
    lines.next(),
    new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`kafka-mock exited with ${code}: ${stderr}`))),
    ),
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`kafka-mock printed no bootstrap list within 10 s: ${stderr}`)),
        10_000,
      ).unref(),
    ),
  ])
  if (!first.startsWith('bootstrap ')) throw new Error(`kafka-mock: unexpected first line ${first}`)
  let queue = Promise.resolve()
  const command = (line: string): Promise<void> => {
    const run = queue.then(async () => {
      child.stdin.write(`${line}\n`)
      // The timer also keeps this process alive while it waits, should the child's pipes be unref'd.
      let timer: NodeJS.Timeout | undefined
      const answer = await Promise.race([
        lines.next(),
        new Promise<string>((resolve) => (timer = setTimeout(() => resolve('no answer within 10 s'), 10_000))),
      ])
      clearTimeout(timer)
      if (answer !== 'ok') throw new Error(`kafka-mock ${line}: ${answer}`)
    })
    queue = run.catch(() => undefined)
    return run
  }
  return {
    brokers: first.slice('bootstrap '.length).split(','),
    createTopic: (topic, partitions) => command(`create ${topic} ${partitions}`),
    down: (id) => command(`down ${id}`),
    up: (id) => command(`up ${id}`),
    unref: () => {
      child.unref()
      for (const stream of [child.stdin, child.stdout, child.stderr])
        (stream as unknown as { unref?: () => void }).unref?.()
    },
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.stdin.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

function lineReader(child: ChildProcessWithoutNullStreams): { next(): Promise<string> } {
  const lines: string[] = []
  const waiting: Array<(line: string) => void> = []
  let partial = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    partial += text
    const parts = partial.split('\n')
    partial = parts.pop()!
    for (const line of parts) {
      const w = waiting.shift()
      if (w !== undefined) w(line)
      else lines.push(line)
    }
  })
  return {
    next: () => {
      const line = lines.shift()
      if (line !== undefined) return Promise.resolve(line)
      return new Promise((resolve) => waiting.push(resolve))
    },
  }
}
