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
  await kafka?.stop() // undefined when the start in before() failed: uvu reports that failure
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

ScaleOut('a second process joins the group: partitions move to it, and together they write every record', async () => {
  const dir = tempDir('sluice-kafka-group-')
  const members = [startMember(dir.file('a.txt'))]
  const held = () => members.flatMap((m) => [...assignments(m).values()]).flat()
  const written = () => [...lines(dir.file('a.txt')), ...lines(dir.file('b.txt'))].length
  try {
    // The first process alone holds all six partitions and reads the first half.
    await waitFor(() => held().length === 6, {
      timeoutMs: 60_000,
      intervalMs: 50,
      description: () => `the first process holds the six partitions: ${members[0]!.lines.join(' | ')}`,
    })
    await produce(
      kafka.brokers,
      'spread',
      range(1_500).map((i) => ({ value: String(i), partition: i % 6 })),
    )
    await waitFor(() => written() >= 1_500, { timeoutMs: 30_000, intervalMs: 50, description: 'first half written' })
    // A second process joins: the group rebalances, and some partitions move to it.
    members.push(startMember(dir.file('b.txt')))
    await waitFor(
      () =>
        members.every((m) => [...assignments(m).values()].some((p) => p.length > 0)) &&
        held().length === 6 &&
        new Set(held()).size === 6,
      {
        timeoutMs: 60_000,
        intervalMs: 50,
        description: () =>
          `the group split the partitions over both processes: ${members.map((m) => m.lines.join(' | ') + m.stderr).join(' || ')}`,
      },
    )
    await produce(
      kafka.brokers,
      'spread',
      range(1_500).map((i) => ({ value: String(1_500 + i), partition: i % 6 })),
    )
    const secondHalf = () =>
      [...lines(dir.file('a.txt')), ...lines(dir.file('b.txt'))].map(Number).filter((v) => v >= 1_500)
    await waitFor(() => new Set(secondHalf()).size === 1_500, {
      timeoutMs: 30_000,
      intervalMs: 50,
      description: 'second half written',
    })
    const a = lines(dir.file('a.txt')).map(Number)
    const b = lines(dir.file('b.txt')).map(Number)
    // Moving partitions is at-least-once (the new owner re-reads from the last completed checkpoint);
    // what was written after the split is read once, each partition by one process.
    assert.equal(
      [...new Set([...a, ...b])].sort((x, y) => x - y),
      range(3_000),
      'every record, over both processes',
    )
    assert.equal(
      ascending(secondHalf()),
      range(1_500).map((i) => 1_500 + i),
      'after the split: each record once',
    )
    const later = (values: number[]) => values.filter((v) => v >= 1_500)
    assert.ok(later(b).length > 0 && later(a).length > 0, 'both processes read after the split')
    const partitionsOf = (values: number[]) => new Set(later(values).map((v) => v % 6))
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
