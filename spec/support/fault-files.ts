import { closeSync, mkdirSync, openSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { OperatorSubtaskState, StateHandle } from '../../lib/checkpoint/checkpoint-types.js'
import { DirectoryStorage } from '../../lib/checkpoint/directory-storage.js'
import { FaultLog, type FaultPlan, InjectedFault } from './fault-injection.js'

/**
 * The fault pieces of schedules on the worker executor, where every thread builds its own operators
 * and a restart starts fresh threads: what has fired is remembered in files, not in memory.
 */

/**
 * A {@link FaultLog} whose fired faults are marker files in `directory` (`fired-<index>`, created
 * exclusively): each fault fires once over all threads of the process and all attempts of the job.
 *
 * @example
 * const log = new FileFaultLog(plan, '/tmp/schedule-3/faults') // the same directory in every thread
 */
export class FileFaultLog extends FaultLog {
  constructor(
    plan: FaultPlan,
    readonly directory: string,
  ) {
    super(plan)
    mkdirSync(directory, { recursive: true })
  }

  /** Marks fault `i` fired here and in `directory`; false when another thread, or an earlier attempt, fired it. */
  protected override claim(i: number): boolean {
    return super.claim(i) && claim(join(this.directory, `fired-${i}`))
  }

  /**
   * The indexes of the faults that fired, read from `directory`.
   *
   * @example
   * FileFaultLog.firedIn('/tmp/schedule-3/faults') // [0, 1]
   */
  static firedIn(directory: string): number[] {
    return readdirSync(directory)
      .filter((name) => name.startsWith('fired-'))
      .map((name) => Number(name.slice('fired-'.length)))
      .sort((a, b) => a - b)
  }
}

/** Creates `path` unless it exists; true when this call created it. */
function claim(path: string): boolean {
  try {
    closeSync(openSync(path, 'wx'))
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  }
}

/**
 * A {@link DirectoryStorage} that fails to write a state of the plan's checkpoint (fault b) — a
 * DirectoryStorage itself, as the worker executor requires: each worker writes its subtasks' state.
 *
 * @example
 * new FaultyDirectoryStorage('/tmp/schedule-3/checkpoints', log)
 */
export class FaultyDirectoryStorage extends DirectoryStorage {
  constructor(
    directory: string,
    private readonly faults: FaultLog,
  ) {
    super(directory)
  }

  override writeState(
    checkpointId: number,
    uid: string,
    subtask: number,
    state: OperatorSubtaskState,
  ): Promise<StateHandle> {
    if (this.faults.take('storage-write-fails', (f) => checkpointId >= f.checkpoint) !== undefined)
      return Promise.reject(new InjectedFault(`storage write of checkpoint ${checkpointId}`))
    return super.writeState(checkpointId, uid, subtask, state)
  }
}
