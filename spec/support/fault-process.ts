import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FaultPlan, KillPoint } from './fault-injection.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** How one run of a job process ended. */
export interface ProcessRun {
  readonly killed: boolean
  readonly code: number | null
  readonly lines: readonly string[]
  readonly stderr: string
  /** From the spawn to the exit. */
  readonly durationMs: number
}

/**
 * Runs `node --import tsx <script> <args>` from the repository root and SIGKILLs it at `kill` (when
 * given and the process is still alive then); resolves when the process has exited, with what it
 * printed. Rejects when it neither exits nor is killed within `timeoutMs` (it is killed then). `env`
 * is added to this process's environment (`{ SLUICE_EXECUTOR: 'workers' }` runs the job on workers).
 *
 * @example
 * const run = await runJobProcess('spec/support/child-jobs/keyed-count-job.ts', [plan, dir], { after: 'running', delayMs: 20 })
 */
export function runJobProcess(
  script: string,
  args: readonly string[],
  kill: KillPoint | undefined,
  timeoutMs = 30_000,
  env: Readonly<Record<string, string>> = {},
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now()
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const lines: string[] = []
    let stderr = ''
    let partial = ''
    let killed = false
    let checkpoints = 0
    let killTimer: NodeJS.Timeout | undefined
    const killAfter = (delayMs: number): void => {
      if (killTimer !== undefined) return
      killTimer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) {
          killed = true
          child.kill('SIGKILL')
        }
      }, delayMs)
    }
    const deadline = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(
          `job process neither finished nor was killed within ${timeoutMs} ms; it printed: ${lines.join(' | ')}; stderr: ${stderr}`,
        ),
      )
    }, timeoutMs)
    if (kill?.after === 'spawn') killAfter(kill.delayMs)
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      partial += text
      const parts = partial.split('\n')
      partial = parts.pop()!
      for (const line of parts) {
        lines.push(line)
        if (kill?.after === 'running' && line === 'running') killAfter(kill.delayMs)
        if (line.startsWith('checkpoint ') && kill?.after === 'checkpoint' && ++checkpoints >= (kill.checkpoints ?? 1))
          killAfter(kill.delayMs)
      }
    })
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr += text
    })
    child.on('error', (error) => {
      clearTimeout(deadline)
      reject(error)
    })
    child.on('exit', (code) => {
      clearTimeout(deadline)
      clearTimeout(killTimer)
      resolve({ killed, code, lines, stderr, durationMs: performance.now() - startedAt })
    })
  })
}

/** What a kill schedule did: how many runs, how many were killed, each run's printout, the longest run. */
export interface KillScheduleRun {
  readonly runs: number
  readonly kills: number
  readonly log: string[]
  readonly longestRunMs: number
}

/** How {@link runKilledUntilFinished} runs and logs the job process. */
export interface KillRunOptions {
  /** Runs before giving up; default the kill points + 3. */
  readonly maxRuns?: number
  /** Per run; default 30 s. */
  readonly timeoutMs?: number
  /** The log line of one run after `run n (kill …): `; default `KILLED|exit n after <lines>`. */
  readonly describe?: (outcome: ProcessRun) => string
  /** Added to the job process's environment (see {@link runJobProcess}). */
  readonly env?: Readonly<Record<string, string>>
}

/**
 * One run in a line: the first line it printed, how many checkpoints (and the last), how it ended, and
 * any `skipped …` lines.
 *
 * @example
 * runKilledUntilFinished(script, args, KILLS, { describe: briefly })
 */
export function briefly(outcome: ProcessRun): string {
  const checkpoints = outcome.lines.filter((l) => l.startsWith('checkpoint '))
  const skipped = outcome.lines.filter((l) => l.startsWith('skipped')).map((l) => `, ${l}`)
  return `${outcome.lines[0] ?? '(nothing printed)'}, ${checkpoints.length} checkpoints (last: ${checkpoints.at(-1) ?? 'none'}), ${outcome.killed ? 'SIGKILLed' : `exit ${outcome.code}`}${skipped.join('')}`
}

/**
 * Runs the job process `script args` again and again, killing it at each of `points` in turn, then lets
 * it run to its end. Rejects when a run fails on its own or the process does not finish within
 * `maxRuns`.
 *
 * @example
 * const { kills, log } = await runKilledUntilFinished('spec/connectors/redis/child-job.ts', [plan, dir], KILLS)
 */
export async function runKilledUntilFinished(
  script: string,
  args: readonly string[],
  points: readonly KillPoint[],
  options: KillRunOptions = {},
): Promise<KillScheduleRun> {
  const { maxRuns = points.length + 3, timeoutMs = 30_000 } = options
  const describe =
    options.describe ?? ((o: ProcessRun) => `${o.killed ? 'KILLED' : `exit ${o.code}`} after ${o.lines.join(', ')}`)
  const log: string[] = []
  let kills = 0
  let longestRunMs = 0
  for (let run = 0; run < maxRuns; run++) {
    const point = points[run]
    const outcome = await runJobProcess(script, args, point, timeoutMs, options.env)
    longestRunMs = Math.max(longestRunMs, outcome.durationMs)
    log.push(`run ${run + 1}${point === undefined ? '' : ` (kill ${JSON.stringify(point)})`}: ${describe(outcome)}`)
    if (outcome.killed) {
      kills++
      continue
    }
    if (outcome.code === 0) return { runs: run + 1, kills, log, longestRunMs }
    throw new Error(`job process failed on its own (exit ${outcome.code}):\n${log.join('\n')}\n${outcome.stderr}`)
  }
  throw new Error(`job process did not finish within ${maxRuns} runs:\n${log.join('\n')}`)
}

/**
 * Runs a job process with `plan` in `workDir` (and `options.args` after them) again and again, killing
 * it at each of the plan's kill points in turn, then lets it run to its end (see
 * {@link runKilledUntilFinished}; at most 20 runs unless `options.maxRuns` says otherwise).
 *
 * @example
 * const { kills } = await runUntilFinished('spec/support/child-jobs/keyed-count-job.ts', plan, dir)
 */
export function runUntilFinished(
  script: string,
  plan: FaultPlan,
  workDir: string,
  options: KillRunOptions & { readonly args?: readonly string[] } = {},
): Promise<KillScheduleRun> {
  const fault = plan.faults.find((f) => f.kind === 'kill')
  const points = fault?.kind === 'kill' ? fault.at : []
  const { args = [], maxRuns = 20, ...rest } = options
  return runKilledUntilFinished(script, [JSON.stringify(plan), workDir, ...args], points, { maxRuns, ...rest })
}
