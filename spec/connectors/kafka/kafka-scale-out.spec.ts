import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type KafkaServer, startKafka } from '../../support/kafka-server.js'
import { tempDir } from '../../support/temp-dir.js'
import { waitFor } from '../../support/wait-for.js'
import { ascending, produce, range } from './support.js'

/**
 * Scale-out past one process: two processes run the same job; their Kafka sources join one consumer
 * group, which splits the topic's partitions over the subtasks of both (each process keeps its own
 * checkpoints). Against Apache Kafka (one KRaft node, no initial rebalance delay): a member joining
 * later makes the coordinator rebalance, and partitions move from the first process to the second.
 */
const ScaleOut = suite('kafka scale-out')
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
let kafka: KafkaServer

ScaleOut.before(async () => {
  kafka = await startKafka({ topics: { spread: 6 } })
})
ScaleOut.after(async () => {
  await kafka.stop()
})

interface Member {
  readonly child: ChildProcess
  readonly lines: string[]
  stderr: string
}

function startMember(output: string): Member {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'spec/connectors/kafka/group-member-job.ts',
      kafka.brokers.join(','),
      'spread',
      'spreaders',
      output,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const member: Member = { child, lines: [], stderr: '' }
  let partial = ''
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    partial += text
    const parts = partial.split('\n')
    partial = parts.pop()!
    member.lines.push(...parts)
  })
  child.stderr!.setEncoding('utf8').on('data', (t: string) => (member.stderr += t))
  return member
}

/** The latest assignment of each subtask of a member. */
function assignments(member: Member): Map<string, string[]> {
  const latest = new Map<string, string[]>()
  for (const line of member.lines) {
    if (!line.startsWith('assigned ')) continue
    const [, subtask, ...partitions] = line.split(' ')
    latest.set(
      subtask!,
      partitions.filter((p) => p !== ''),
    )
  }
  return latest
}

const lines = (file: string): string[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : []

ScaleOut('two processes in one consumer group split the partitions and together write every record once', async () => {
  const dir = tempDir('sluice-kafka-group-')
  const members = [startMember(dir.file('a.txt')), startMember(dir.file('b.txt'))]
  try {
    // Both processes' subtasks hold partitions, and together each of the six exactly once.
    await waitFor(
      () => {
        const held = members.flatMap((m) => [...assignments(m).values()])
        const all = held.flat()
        return (
          members.every((m) => [...assignments(m).values()].some((p) => p.length > 0)) &&
          all.length === 6 &&
          new Set(all).size === 6
        )
      },
      {
        timeoutMs: 45_000,
        intervalMs: 50,
        description: () =>
          `the group split the partitions over both processes: ${members.map((m) => m.lines.join(' | ') + m.stderr).join(' || ')}`,
      },
    )
    await produce(
      kafka.brokers,
      'spread',
      range(3_000).map((i) => ({ value: String(i), partition: i % 6 })),
    )
    await waitFor(() => lines(dir.file('a.txt')).length + lines(dir.file('b.txt')).length >= 3_000, {
      timeoutMs: 15_000,
      intervalMs: 50,
      description: 'all records written',
    })
    const a = lines(dir.file('a.txt')).map(Number)
    const b = lines(dir.file('b.txt')).map(Number)
    assert.ok(a.length > 0 && b.length > 0, `both processes wrote records (${a.length} and ${b.length})`)
    assert.equal(ascending([...a, ...b]), range(3_000), 'every record once, over both processes')
    // A partition is read by one process: its values (i % 6) appear in one file only.
    const partitionsOf = (values: number[]) => new Set(values.map((v) => v % 6))
    for (const p of partitionsOf(a)) assert.not.ok(partitionsOf(b).has(p), `partition ${p} read by one process`)
  } finally {
    for (const m of members) m.child.kill('SIGTERM')
    await Promise.all(
      members.map(
        (m) =>
          new Promise<void>((resolve) => {
            if (m.child.exitCode !== null || m.child.signalCode !== null) return resolve()
            const timer = setTimeout(() => m.child.kill('SIGKILL'), 5_000)
            m.child.once('exit', () => {
              clearTimeout(timer)
              resolve()
            })
          }),
      ),
    )
    dir.remove()
  }
})

ScaleOut.run()
