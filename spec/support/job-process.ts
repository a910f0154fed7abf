import { join } from 'node:path'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../lib/checkpoint/directory-storage.js'
import type { JobHandle } from '../../lib/runtime/job-handle.js'
import type { ExecutorConfig } from '../../lib/runtime/workers/executor-config.js'
import { isCoordinator } from '../../lib/runtime/workers/worker-thread.js'
import type { FaultPlan } from './fault-injection.js'

/**
 * The child side of {@link import('./fault-process.js').runJobProcess}: how a job process of the
 * SIGKILL specs reads its arguments and reports what it does, in the lines the parent waits for.
 */

/** Prints one line on stdout, where the parent reads it (from the coordinator only, under the worker executor). */
export function say(line: string): void {
  if (isCoordinator()) process.stdout.write(`${line}\n`)
}

/**
 * The job process's arguments after the script (`names` as the usage line names them, optional ones in
 * brackets); prints the usage and exits 2 when a required one is missing.
 *
 * @example
 * const [planText, workDir] = jobArguments('spec/connectors/redis/child-job.ts', '<plan json>', '<work dir>')
 */
export function jobArguments<const Names extends readonly string[]>(
  script: string,
  ...names: Names
): { [K in keyof Names]: Names[K] extends `[${string}` ? string | undefined : string } {
  const values = process.argv.slice(2)
  if (values.length < names.filter((name) => !name.startsWith('[')).length) {
    process.stderr.write(`usage: ${script} ${names.join(' ')}\n`)
    process.exit(2)
  }
  return values as { [K in keyof Names]: Names[K] extends `[${string}` ? string | undefined : string }
}

/**
 * The environment of a fault plan's job process, checkpointing into `<workDir>/checkpoints` (started
 * again on the same directory, the job resumes from the newest complete checkpoint there); prints
 * `restoring <id>` or `fresh` first. Without `executor` the job runs where SLUICE_EXECUTOR says.
 *
 * @example
 * const env = await planEnvironment(plan, workDir, { kind: 'workers', threads: 2 })
 * buildCountJob(env, plan, undefined, sink)
 */
export async function planEnvironment(
  plan: FaultPlan,
  workDir: string,
  executor?: ExecutorConfig,
): Promise<StreamEnvironment> {
  const storage = new DirectoryStorage(join(workDir, 'checkpoints'))
  const restored = await storage.latest()
  say(restored === undefined ? 'fresh' : `restoring ${restored.id}`)
  return StreamEnvironment.create({
    parallelism: plan.parallelism,
    batchSize: plan.batchSize,
    channelCredits: plan.channelCredits,
    logLevel: 'silent',
    ...(executor === undefined ? {} : { executor }),
    checkpointing: { intervalMs: plan.intervalMs, mode: plan.mode, storage },
  })
}

/** What {@link reportJob} does beside the standard lines. */
export interface ReportOptions {
  /** How often completed checkpoints are looked for; default 5 ms. */
  readonly intervalMs?: number
  /** Called on each look, after the checkpoint lines (e.g. to cancel the job once it is done). */
  readonly onTick?: () => void
  /** Called when the job finished, before `finished` is printed. */
  readonly onFinished?: () => void
}

/**
 * Reports `job` as the parent expects: `running` once it runs, `checkpoint <id>` for each newly
 * completed checkpoint, then `finished` and exit 0 when the job ends, or its stack on stderr and exit 1
 * when it fails.
 *
 * @example
 * reportJob(env.executeAsync('redis source'), { intervalMs: 20 })
 */
export function reportJob(job: JobHandle, options: ReportOptions = {}): void {
  let reported = 0
  const progress = setInterval(() => {
    for (const c of job.checkpoints()) {
      if (c.status === 'completed' && c.id > reported) {
        reported = c.id
        say(`checkpoint ${c.id}`)
      }
    }
    options.onTick?.()
  }, options.intervalMs ?? 5)
  void job.running.then(() => say('running'))
  job.result.then(
    () => {
      clearInterval(progress)
      options.onFinished?.()
      say('finished')
      process.exit(0)
    },
    (error: unknown) => {
      clearInterval(progress)
      process.stderr.write(`job failed: ${(error as Error)?.stack ?? String(error)}\n`)
      process.exit(1)
    },
  )
}
