import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import type { DeadLetter } from '../../../lib/runtime/output-tag.js'
import { TwitterSource } from '../../../lib/connectors/twitter/index.js'
import { FileLedger } from '../../support/ledger-files.js'
import { tempDir } from '../../support/temp-dir.js'
import { waitFor } from '../../support/wait-for.js'
import { XStreamServer } from '../../support/x-stream-server.js'

/**
 * The Twitter source in jobs, against the X protocol server: thousands of tweets through a job while
 * the server cuts the stream and restarts; and a job process SIGKILLed twice mid-stream and restored
 * from its checkpoints (spec/connectors/twitter/child-job.ts) into an exactly-once file ledger: with
 * backfill, every tweet published while the job was down (within the backfill window) arrives, and
 * none twice.
 */
const Job = suite('twitter source in jobs')
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const token = 'job-spec-bearer-token'
let x: XStreamServer

Job.before(async () => {
  x = await XStreamServer.start({ token })
})
Job.after(async () => {
  await x.close()
})
Job.before.each(async () => {
  await waitFor(() => x.connections === 0, { timeoutMs: 5000 })
  x.tweets.length = 0
})

/** Publishes `total` tweets in bursts of `burst`, a timer turn apart, while `keepGoing()`. */
async function publishSlowly(total: number, burst: number, keepGoing = () => true): Promise<string[]> {
  const ids: string[] = []
  while (ids.length < total && keepGoing()) {
    ids.push(...x.publish(Math.min(burst, total - ids.length)).map((t) => t.id))
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  return ids
}

Job(
  '5000 tweets through a job while the server cuts the stream and restarts: each exactly once; a malformed line is a dead letter of the job',
  async () => {
    const received: string[] = []
    const letters: DeadLetter[] = []
    const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 50 } })
    const source = new TwitterSource({
      bearerToken: token,
      baseUrl: x.baseUrl,
      rules: [{ value: 'cats', tag: 'cats' }],
      backfillMinutes: 1,
      networkDelayStepMs: 10,
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
    })
    env
      .fromSource(source, { uid: 'tweets' })
      .sinkTo(new CallbackSink((r: { tweet: { id: string } }) => void received.push(r.tweet.id)))
    const job = env.executeAsync('tweets')
    const subscription = job.deadLetters.subscribe((letter) => letters.push(letter))
    try {
      await job.running
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      const ids = await publishSlowly(2000, 50)
      x.sendRaw('{"data": not json')
      await waitFor(() => letters.length === 1, { timeoutMs: 5000 })
      x.disconnectAll()
      ids.push(...(await publishSlowly(1000, 50)))
      await waitFor(() => x.connections === 1, { timeoutMs: 5000 })
      await x.restart(50)
      ids.push(...(await publishSlowly(1000, 50)))
      x.operationalDisconnect()
      ids.push(...(await publishSlowly(1000, 50)))
      await waitFor(() => received.length >= ids.length, {
        timeoutMs: 15_000,
        description: () => `${received.length} of ${ids.length}`,
      })
      assert.is(new Set(received).size, received.length, 'no tweet twice')
      assert.equal([...received].sort(), [...ids].sort(), 'every tweet')
      assert.ok(x.streamRequests().length >= 4, 'the source reconnected after each cut')
      assert.is(letters.length, 1)
      assert.match(letters[0]!.reason, /^malformed stream line: /)
      assert.is(job.metrics().deadLetters, 1)
    } finally {
      subscription.unsubscribe()
      await job.cancel()
      await job.result.catch(() => {})
    }
  },
)

/** A child job process and what it printed. */
class JobProcess {
  readonly lines: string[] = []
  private readonly child: ChildProcess
  readonly exited: Promise<void>
  private stderr = ''

  constructor(dir: string) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', 'spec/connectors/twitter/child-job.ts', dir, x.baseUrl, token],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let partial = ''
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      const parts = (partial + text).split('\n')
      partial = parts.pop()!
      this.lines.push(...parts)
    })
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr += text
    })
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()))
  }

  get checkpoints(): number {
    return this.lines.filter((l) => l.startsWith('checkpoint ')).length
  }

  get failure(): string {
    return this.child.exitCode !== null && this.child.signalCode === null
      ? `exit ${this.child.exitCode}: ${this.stderr}`
      : ''
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    await this.exited
  }
}

Job(
  'a job SIGKILLed twice mid-stream and restored: with backfill, no tweet lost and none twice in the exactly-once ledger',
  async () => {
    const dir = tempDir('sluice-x-kill-')
    const ledger = `${dir.path}/ledger`
    const committed = (): string[] => FileLedger.readCommitted<string>(ledger)
    let job = new JobProcess(dir.path)
    let publishing = true
    const ids: string[] = []
    const publisher = (async () => {
      while (publishing && ids.length < 6000) ids.push(...(await publishSlowly(40, 40)))
    })()
    try {
      for (let kill = 0; kill < 2; kill++) {
        const target = job.checkpoints + 3
        await waitFor(() => job.checkpoints >= target || job.failure !== '', {
          timeoutMs: 20_000,
          description: () => `run ${kill + 1}: ${job.checkpoints} checkpoints, ${committed().length} committed`,
        })
        assert.is(job.failure, '', 'the job was running')
        await job.kill()
        // tweets published while no job runs: only the backfill brings them
        await new Promise((resolve) => setTimeout(resolve, 100))
        job = new JobProcess(dir.path)
      }
      publishing = false
      await publisher
      const lastId = ids.at(-1)!
      await waitFor(() => committed().includes(lastId) || job.failure !== '', {
        timeoutMs: 20_000,
        description: () => `${committed().length} of ${ids.length} committed; ${job.failure}`,
      })
      assert.is(job.failure, '')
      const got = committed()
      const counts = new Map<string, number>()
      for (const id of got) counts.set(id, (counts.get(id) ?? 0) + 1)
      const missing = ids.filter((id) => !counts.has(id))
      const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
      assert.ok(ids.length >= 1000, `${ids.length} tweets published`)
      assert.equal(missing, [], 'no tweet lost')
      assert.equal(twice, [], 'no tweet twice')
      assert.is(got.length, ids.length)
      const backfilled = x.streamRequests().filter((r) => r.query.backfill_minutes === '1').length
      assert.ok(backfilled >= 2, `each restore asked for backfill (${backfilled})`)
    } finally {
      publishing = false
      await publisher
      await job.kill()
      dir.remove()
    }
  },
)

Job.run()
