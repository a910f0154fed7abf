import { parseArgs } from 'node:util'
import { CliError, JobServerClient } from './job-server-client.js'

const USAGE = `usage: sluice <command> [options]

  run <job.ts|job.js> [--parallelism N] [--checkpoint-dir D] [--checkpoint-interval MS]
                      [--from-savepoint D] [--port P]     run a job file (it exports job(env))
  list                                                   the jobs of a job server
  cancel <job-id>                                        cancel a job
  savepoint <job-id> <directory>                         take a savepoint
  stop <job-id> --savepoint <directory>                  stop a job with a savepoint
  metrics                                                print the Prometheus metrics

  --url U      the job server (default $SLUICE_URL, else http://127.0.0.1:8081)
  --token T    its token (default $SLUICE_TOKEN)

exit codes: 0 done, 1 refused by the server or the job failed, 2 usage, 3 server unreachable, 130 interrupted`

/**
 * The `sluice` command line: parses `argv`, runs the command, prints results to standard output and
 * errors (the server's code and message) to standard error, and resolves with the exit code.
 *
 * @example
 * process.exitCode = await main(['list', '--url', 'http://127.0.0.1:8081'])
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await command(argv)
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`sluice: ${error.code}: ${error.message}\n`)
      if (error.exitCode === 2) process.stderr.write(`\n${USAGE}\n`)
      return error.exitCode
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
      process.stderr.write(`sluice: ${(error as Error).message}\n\n${USAGE}\n`)
      return 2
    }
    process.stderr.write(`sluice: ${(error as Error).stack ?? String(error)}\n`)
    return 1
  }
}

async function command(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      parallelism: { type: 'string' },
      'checkpoint-dir': { type: 'string' },
      'checkpoint-interval': { type: 'string' },
      'from-savepoint': { type: 'string' },
      port: { type: 'string' },
      savepoint: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  const [name, ...args] = positionals
  if (values.help === true || name === undefined || name === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return name === undefined && values.help !== true ? 2 : 0
  }
  const token = values.token ?? (process.env.SLUICE_TOKEN || undefined)
  if (name === 'run') {
    const file = one(args, 'run <job file>')
    // loaded only here: the engine is not needed to talk to a server
    const { runJob } = await import('./run-job.js')
    return runJob({
      file,
      parallelism: wholeNumber('--parallelism', values.parallelism, 1),
      checkpointDir: values['checkpoint-dir'],
      checkpointIntervalMs: wholeNumber('--checkpoint-interval', values['checkpoint-interval'], 1) ?? 5_000,
      fromSavepoint: values['from-savepoint'],
      port: wholeNumber('--port', values.port, 0),
      token,
      out: process.stderr,
    })
  }
  const client = new JobServerClient(values.url ?? (process.env.SLUICE_URL || 'http://127.0.0.1:8081'), token)
  const job = (usage: string) => `/jobs/${encodeURIComponent(one(args, usage))}`
  switch (name) {
    case 'list': {
      const { jobs } = await client.get<{
        jobs: Array<{ id: string; name: string; status: string; duration: number }>
      }>('/jobs')
      for (const j of jobs) process.stdout.write(`${j.id}\t${j.status}\t${Math.round(j.duration / 1000)}s\t${j.name}\n`)
      return 0
    }
    case 'cancel': {
      const answer = await client.post<{ id: string; status: string }>(`${job('cancel <job-id>')}/cancel`)
      process.stdout.write(`${answer.id}\t${answer.status}\n`)
      return 0
    }
    case 'savepoint': {
      if (args.length !== 2) throw new CliError('ERR_USAGE', 'savepoint <job-id> <directory>', 2)
      const answer = await client.post<{ location: string }>(`/jobs/${encodeURIComponent(args[0]!)}/savepoints`, {
        targetDirectory: args[1],
      })
      process.stdout.write(`${answer.location}\n`)
      return 0
    }
    case 'stop': {
      if (values.savepoint === undefined) throw new CliError('ERR_USAGE', 'stop <job-id> --savepoint <directory>', 2)
      const answer = await client.post<{ location: string }>(`${job('stop <job-id> --savepoint <directory>')}/stop`, {
        targetDirectory: values.savepoint,
      })
      process.stdout.write(`${answer.location}\n`)
      return 0
    }
    case 'metrics':
      process.stdout.write(await client.metrics())
      return 0
    default:
      throw new CliError('ERR_USAGE', `unknown command ${name}`, 2)
  }
}

function one(args: readonly string[], usage: string): string {
  if (args.length !== 1) throw new CliError('ERR_USAGE', usage, 2)
  return args[0]!
}

function wholeNumber(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined
  const n = Number(text)
  if (!Number.isInteger(n) || n < min)
    throw new CliError('ERR_USAGE', `${flag} needs a whole number of at least ${min}`, 2)
  return n
}
