import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FileLedger } from '../../support/ledger-files.js'
import { tempDir } from '../../support/temp-dir.js'
import { waitFor } from '../../support/wait-for.js'

/**
 * SIGKILL of a process running the HTTP server source in 'checkpointed' mode
 * (spec/connectors/http-server/child-job.ts) while clients POST with Idempotency-Keys and retry
 * until 200: after restores, the exactly-once ledger holds every acknowledged record exactly once.
 * The first kill comes from inside, between a checkpoint's completion and its answers (the retried
 * keys must be recognised); the second from the test, at any moment.
 */
const HttpKill = suite('http server source process kill')
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const SCRIPT = 'spec/connectors/http-server/child-job.ts'

/** A child job process and the url it listens on, once it said so. */
class JobProcess {
  url: string | undefined
  duplicates = 0
  readonly lines: string[] = []
  private readonly child: ChildProcess
  readonly exited: Promise<void>
  private stderr = ''

  constructor(dir: string, crashAtCompletion = 0) {
    this.child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, dir, String(crashAtCompletion)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let partial = ''
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      const parts = (partial + text).split('\n')
      partial = parts.pop()!
      for (const line of parts) {
        this.lines.push(line)
        if (line.startsWith('listening ')) this.url = line.slice('listening '.length)
        if (line.startsWith('duplicates ')) this.duplicates = Number(line.slice('duplicates '.length))
      }
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
    return this.child.exitCode !== null && this.child.signalCode === null ? this.stderr : ''
  }

  get killed(): boolean {
    return this.child.signalCode === 'SIGKILL'
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL')
    await this.exited
  }
}

HttpKill(
  'checkpointed mode: SIGKILLed twice mid-stream, clients retrying with Idempotency-Keys; every acknowledged record exactly once',
  async () => {
    const clients = 16
    const requestsPerClient = 30
    const recordsPerRequest = 3
    const total = clients * requestsPerClient
    const dir = tempDir('sluice-http-kill-')
    const ledger = `${dir.path}/ledger`
    let job = new JobProcess(dir.path, 8)
    const acknowledged = new Set<number>()
    let retries = 0
    let stop = false

    const send = async (client: number): Promise<void> => {
      for (let i = 0; i < requestsPerClient && !stop; i++) {
        const request = client * requestsPerClient + i
        const body = Array.from({ length: recordsPerRequest }, (_, k) =>
          JSON.stringify({ n: request * recordsPerRequest + k }),
        )
        for (;;) {
          if (stop) return
          const url = job.url
          try {
            if (url === undefined) throw new Error('no server yet')
            const res = await fetch(url, {
              method: 'POST',
              body: `${body.join('\n')}\n`,
              headers: { 'Idempotency-Key': `r${request}` },
              signal: AbortSignal.timeout(10_000),
            })
            await res.arrayBuffer()
            if (res.status === 200) break
          } catch {
            // the process was killed, or is restarting: retry
          }
          retries++
          // a retry's pause, as a real client's backoff
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
        acknowledged.add(request)
      }
    }

    try {
      const sending = Promise.all(Array.from({ length: clients }, (_, c) => send(c)))
      await waitFor(() => job.killed || job.failure !== '', {
        timeoutMs: 30_000,
        description: () => `first run killing itself: ${job.checkpoints} checkpoints; ${job.failure}`,
      })
      assert.is(job.failure, '', 'the first run died by its own SIGKILL')
      const atFirstKill = acknowledged.size
      job = new JobProcess(dir.path)
      const second = job
      await waitFor(() => acknowledged.size >= atFirstKill + total / 6 || job.failure !== '', {
        timeoutMs: 30_000,
        description: () => `second run: ${acknowledged.size} acknowledged; ${job.failure}`,
      })
      assert.is(job.failure, '', 'the second run was running')
      await job.kill()
      const atSecondKill = acknowledged.size
      job = new JobProcess(dir.path)
      await sending
      assert.ok(
        atFirstKill < total && atSecondKill < total,
        `both kills came mid-stream (${atFirstKill}, ${atSecondKill} of ${total} requests acknowledged)`,
      )
      assert.ok(retries > 0, 'clients retried')
      // the ledger commits on the same completion notice that answers 200
      const committed = (): number[] => FileLedger.readCommitted<number>(ledger)
      await waitFor(() => committed().length >= total * recordsPerRequest, {
        timeoutMs: 10_000,
        description: () => `${committed().length} of ${total * recordsPerRequest} committed`,
      })
      const counts = new Map<number, number>()
      for (const n of committed()) counts.set(n, (counts.get(n) ?? 0) + 1)
      const missing: number[] = []
      const twice: number[] = []
      for (const request of acknowledged)
        for (let k = 0; k < recordsPerRequest; k++) {
          const n = request * recordsPerRequest + k
          const c = counts.get(n) ?? 0
          if (c === 0) missing.push(n)
          if (c > 1) twice.push(n)
        }
      assert.is(acknowledged.size, total)
      assert.equal(missing, [], 'no acknowledged record lost')
      assert.equal(twice, [], 'no record taken twice')
      assert.is(committed().length, total * recordsPerRequest, 'nothing else in the ledger')
      assert.ok(second.duplicates > 0, 'after the first kill, retries of keys the checkpoint covered were recognised')
    } finally {
      stop = true
      await job.kill()
      dir.remove()
    }
  },
)

HttpKill.run()
