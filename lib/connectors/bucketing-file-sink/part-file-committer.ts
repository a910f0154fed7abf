import { ConnectorError, messageOf } from '../../errors.js'
import type { Logger } from '../../logging.js'
import type { CommitOutcome } from '../../checkpoint/two-phase-commit-sink.js'
import type { FileSystem } from './file-system.js'
import type { PartFileRef } from './transaction-state.js'

/**
 * The directory of a bucket under the base path.
 *
 * @example
 * bucketDirectory(new LocalFileSystem(), '/data/out', '2024/01/31') // '/data/out/2024/01/31'
 */
export function bucketDirectory(fs: FileSystem, basePath: string, bucket: string): string {
  return bucket === '' ? basePath : fs.join(basePath, ...bucket.split('/'))
}

/**
 * Commits pending part files (Flink's Committer): each hidden in-progress file is renamed to its final
 * name, then each directory touched is synced so the renames survive a crash. Idempotent, because a
 * commit may be repeated after a restore:
 * - in-progress file there, final name free: renamed ('committed');
 * - in-progress file gone, final file there: a commit that already happened ('already-committed');
 * - both gone: also 'already-committed', with a warning. The finished file was committed and has since
 *   been moved or deleted by whoever reads the output (as Flink, which cannot tell this from a loss);
 * - both there: the final name belongs to another file. Refused with ConnectorError
 *   'ERR_PART_FILE_EXISTS' rather than overwriting data: two writers share the base path and prefix.
 * A rename that fails for another reason gives 'retry-later' (the transaction stays pending).
 *
 * @example
 * const outcome = await commitPartFiles(fs, '/data/out', partRefs(txn), log)
 */
export async function commitPartFiles(
  fs: FileSystem,
  basePath: string,
  refs: readonly PartFileRef[],
  log: Logger,
): Promise<CommitOutcome> {
  const outcomes = await Promise.all(refs.map((ref) => commitPartFile(fs, basePath, ref, log)))
  if (fs.syncDirectory !== undefined) {
    const touched = new Set(
      refs.filter((_, i) => outcomes[i] === 'committed').map((ref) => bucketDirectory(fs, basePath, ref.bucket)),
    )
    for (const directory of touched) await fs.syncDirectory(directory)
  }
  if (outcomes.includes('retry-later')) return 'retry-later'
  if (outcomes.length > 0 && outcomes.every((o) => o === 'already-committed')) return 'already-committed'
  return 'committed'
}

/**
 * Deletes the hidden files of parts that will never be committed; a file already gone is fine.
 *
 * @example
 * await deleteInProgressFiles(fs, '/data/out', partRefs(abortedTxn))
 */
export async function deleteInProgressFiles(
  fs: FileSystem,
  basePath: string,
  refs: readonly PartFileRef[],
): Promise<void> {
  await Promise.all(refs.map((ref) => fs.delete(fs.join(bucketDirectory(fs, basePath, ref.bucket), ref.inProgress))))
}

async function commitPartFile(fs: FileSystem, basePath: string, ref: PartFileRef, log: Logger): Promise<CommitOutcome> {
  const directory = bucketDirectory(fs, basePath, ref.bucket)
  const from = fs.join(directory, ref.inProgress)
  const to = fs.join(directory, ref.name)
  if (await fs.exists(from)) {
    if (await fs.exists(to)) {
      throw new ConnectorError(
        'ERR_PART_FILE_EXISTS',
        `bucketingFileSink: cannot commit ${from}: ${to} already exists on ${fs.name}; is another job writing to ${basePath} with the same part prefix?`,
      )
    }
    try {
      await fs.rename(from, to)
      return 'committed'
    } catch (error) {
      // A commit repeated concurrently (a restored subtask and its predecessor) may have won the race.
      if (!(await fs.exists(from)) && (await fs.exists(to))) return 'already-committed'
      log.warn('part file commit failed; retrying later', { from, to, reason: messageOf(error) })
      return 'retry-later'
    }
  }
  if (!(await fs.exists(to))) {
    log.warn(
      'pending part file is gone and its finished file too: it was committed and then moved or deleted, or lost',
      { from, to },
    )
  }
  return 'already-committed'
}
