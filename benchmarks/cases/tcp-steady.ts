// The parent side of the tcp-server-source case's steady-state contenders: one child process per
// contender (tcp-steady-server.ts), forked at the contender's first run, asked for one timed batch per run.
import { type ChildProcess, fork } from 'node:child_process'
import { join } from 'node:path'
import type { RunResult } from '../measure.js'
import type { SteadyReply, SteadyRequest } from './tcp-steady-batch.js'

const SERVER = join(import.meta.dirname, 'tcp-steady-server.ts')
/** The harness's own Node flags (a profiler's too), with the TypeScript loader the child file needs. */
const CHILD_FLAGS = process.execArgv.some((flag) => flag.includes('tsx'))
  ? process.execArgv
  : [...process.execArgv, '--import', 'tsx']

/**
 * One contender's server or job, started once in its own child process; every {@link batch} is one timed
 * batch of lines over a new client connection there, so the harness's repetitions are the batches of one
 * long-running server and its medians are the steady state.
 *
 * @example
 * const engine = new SteadyTcpContender('engine', 1_000_000, 3)
 * const run = await engine.batch() // { records, output, checksum, ms, cpuMs } of the child
 * await engine.close()
 */
export class SteadyTcpContender {
  private child: ChildProcess | undefined
  private started: Promise<void> | undefined

  constructor(
    private readonly contender: 'engine' | 'baseline',
    private readonly lines: number,
    private readonly warmupBatches: number,
  ) {}

  /** One timed batch (the child is forked and warmed up first, untimed, on the first call). */
  async batch(): Promise<RunResult> {
    this.started ??= this.start()
    await this.started
    const answer = this.next()
    this.ask({ kind: 'batch' })
    const reply = await answer
    if (reply.kind !== 'batch') throw new Error(`tcp steady ${this.contender}: expected a batch, got ${reply.kind}`)
    return { records: reply.records, output: reply.output, checksum: reply.checksum, ms: reply.ms, cpuMs: reply.cpuMs }
  }

  /** Stops the server or job and waits for the child to exit (nothing to do if it never started). */
  async close(): Promise<void> {
    const child = this.child
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    if (child.connected) this.ask({ kind: 'close' })
    else child.kill()
    await exited
  }

  private async start(): Promise<void> {
    this.child = fork(SERVER, [], {
      execArgv: CHILD_FLAGS,
      env: {
        ...process.env,
        TS_CONTENDER: this.contender,
        TS_LINES: String(this.lines),
        TS_WARMUP_BATCHES: String(this.warmupBatches),
      },
    })
    const reply = await this.next()
    if (reply.kind !== 'ready') throw new Error(`tcp steady ${this.contender}: expected ready, got ${reply.kind}`)
  }

  private ask(request: SteadyRequest): void {
    this.child!.send(request)
  }

  /** The child's next message; a failure it reports, or its exit before answering, rejects. */
  private next(): Promise<SteadyReply> {
    const child = this.child!
    return new Promise((resolve, reject) => {
      const onMessage = (reply: SteadyReply): void => {
        child.off('exit', onExit)
        if (reply.kind === 'failed') reject(new Error(`tcp steady ${this.contender}: ${reply.error}`))
        else resolve(reply)
      }
      const onExit = (code: number | null, signal: string | null): void => {
        child.off('message', onMessage)
        reject(new Error(`tcp steady ${this.contender}: the child exited (${signal ?? code}) before answering`))
      }
      child.once('message', onMessage)
      child.once('exit', onExit)
    })
  }
}
