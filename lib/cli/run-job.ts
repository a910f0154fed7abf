import { basename, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { StreamEnvironment } from '../api/stream-environment.js'
import { DirectoryStorage } from '../checkpoint/directory-storage.js'
import { messageOf } from '../errors.js'
import { JobServer } from '../server/job-server.js'
import { CliError } from './job-server-client.js'
import { StatusLine } from './status-line.js'

/** What `sluice run` was given. */
export interface RunOptions {
  readonly file: string
  readonly parallelism?: number
  readonly checkpointDir?: string
  readonly checkpointIntervalMs: number
  readonly fromSavepoint?: string
  readonly port?: number
  readonly token?: string
  /** Where the status goes; a TTY gets one line rewritten in place, anything else a line every 5 s. */
  readonly out: NodeJS.WriteStream
}

/**
 * Runs a job file: a module exporting `job(env)` that builds its pipeline on the environment it is
 * given (and optionally `name`). The CLI makes the environment from its flags, serves the job on a job
 * server, prints a status line, cancels on SIGINT/SIGTERM, and resolves with the exit code: 0
 * finished, 1 failed, 130 cancelled.
 *
 * @example
 * // wordcount.ts: export function job(env: StreamEnvironment) { env.readTextFile('in.txt').pipe(…).print() }
 * process.exitCode = await runJob({ file: 'wordcount.ts', checkpointIntervalMs: 5_000, out: process.stderr })
 */
export async function runJob(options: RunOptions): Promise<number> {
  const module = (await import(pathToFileURL(resolve(options.file)).href)) as {
    job?: (env: StreamEnvironment) => unknown
    name?: unknown
  }
  if (typeof module.job !== 'function')
    throw new CliError('ERR_USAGE', `${options.file} must export function job(env: StreamEnvironment)`, 2)
  const name = typeof module.name === 'string' ? module.name : basename(options.file).replace(/\.[cm]?[jt]s$/, '')
  const server = await JobServer.start({
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.token === undefined ? {} : { token: options.token }),
  })
  const env = StreamEnvironment.create({
    ...(options.parallelism === undefined ? {} : { parallelism: options.parallelism }),
    ...(options.checkpointDir === undefined
      ? {}
      : {
          checkpointing: {
            intervalMs: options.checkpointIntervalMs,
            storage: new DirectoryStorage(options.checkpointDir),
          },
        }),
    ...(options.fromSavepoint === undefined ? {} : { restoreFrom: options.fromSavepoint }),
    queryableState: server,
  })
  await module.job(env)
  const job = env.executeAsync(name)
  const out = options.out
  out.write(`sluice: job ${name} ${job.id} started; job server ${server.url}\n`)
  const line = new StatusLine(job)
  const tty = out.isTTY === true
  const timer = setInterval(
    () => out.write(tty ? `\r\x1b[2K${line.render()}` : `${new Date().toISOString()} ${line.render()}\n`),
    tty ? 1_000 : 5_000,
  )
  let interrupted = false
  const stop = () => {
    interrupted = true
    void job.cancel()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    const result = await job.result
    out.write(
      `${tty ? '\n' : ''}sluice: job ${name} ${result.status} after ${(result.durationMs / 1000).toFixed(1)} s\n`,
    )
    return interrupted ? 130 : 0
  } catch (error) {
    out.write(`${tty ? '\n' : ''}sluice: job ${name} failed: ${messageOf(error)}\n`)
    return 1
  } finally {
    clearInterval(timer)
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    await server.close()
  }
}
