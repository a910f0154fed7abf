import { availableParallelism } from 'node:os'
import { ConfigError } from '../../errors.js'
import { optionKeys, optionsObject } from '../../util/options.js'

/**
 * Where a job's subtasks run. `single-thread` (the default): every subtask on the thread that calls
 * `execute()`. `workers`: on `threads` worker threads (default: the cores of the machine), a slot per
 * thread holding one subtask of each vertex; the entry module runs again in each worker.
 */
export type ExecutorConfig = { kind: 'single-thread' } | { kind: 'workers'; threads?: number }

/** The executor with its defaults filled in. */
export type ResolvedExecutor =
  | { readonly kind: 'single-thread' }
  | { readonly kind: 'workers'; readonly threads: number }

const WORKER_OPTIONS = optionKeys<{ kind: string; threads?: number }>({ kind: true, threads: true })

/**
 * Checks the `executor` option; without one, the SLUICE_EXECUTOR environment variable (`workers` or
 * `single-thread`) decides, else the single-thread executor. With SLUICE_EXECUTOR=workers,
 * SLUICE_WORKER_THREADS sets the threads (default: the cores this process may run on, which the
 * machine may cut to one core by its CPU affinity).
 *
 * @example
 * resolveExecutor({ kind: 'workers', threads: 2 }) // { kind: 'workers', threads: 2 }
 * resolveExecutor(undefined, 'workers', '2') // { kind: 'workers', threads: 2 }
 */
export function resolveExecutor(
  option: ExecutorConfig | undefined,
  fromEnvironment: string | undefined = process.env.SLUICE_EXECUTOR,
  threadsFromEnvironment: string | undefined = process.env.SLUICE_WORKER_THREADS,
): ResolvedExecutor {
  if (option === undefined) {
    if (fromEnvironment === undefined || fromEnvironment === '' || fromEnvironment === 'single-thread')
      return { kind: 'single-thread' }
    if (fromEnvironment !== 'workers')
      throw new ConfigError('SLUICE_EXECUTOR', fromEnvironment, "'workers' or 'single-thread'")
    if (threadsFromEnvironment === undefined || threadsFromEnvironment === '')
      return { kind: 'workers', threads: availableParallelism() }
    const threads = Number(threadsFromEnvironment)
    if (!wholeThreads(threads))
      throw new ConfigError('SLUICE_WORKER_THREADS', threadsFromEnvironment, 'a whole number from 1 to 256')
    return { kind: 'workers', threads }
  }
  optionsObject('executor', option, WORKER_OPTIONS)
  if (option.kind === 'single-thread') {
    if ('threads' in option)
      throw new ConfigError('executor.threads', option.threads, "no threads with kind 'single-thread'")
    return { kind: 'single-thread' }
  }
  if (option.kind !== 'workers')
    throw new ConfigError('executor.kind', (option as { kind: unknown }).kind, "'single-thread' or 'workers'")
  const threads = option.threads ?? availableParallelism()
  if (!wholeThreads(threads)) throw new ConfigError('executor.threads', threads, 'a whole number from 1 to 256')
  return { kind: 'workers', threads }
}

function wholeThreads(threads: number): boolean {
  return Number.isInteger(threads) && threads >= 1 && threads <= 256
}
