import type { FileSystem } from './file-system.js'
import type { OutputFileConfig } from './output-file-config.js'

/** An in-progress file found under the base path. */
export interface FoundInProgressFile {
  readonly bucket: string
  readonly name: string
  readonly path: string
}

/** What {@link scanPartFiles} found of one subtask's files. */
export interface PartFileScan {
  /** The highest counter in any part file name of the subtask, finished or not; -1 when none. */
  readonly maxCounter: number
  readonly inProgress: readonly FoundInProgressFile[]
}

/**
 * Lists every bucket under the base path for the part files of `subtask` (names written with
 * `names`; other files are ignored). Run once when a subtask's writer starts: its counter then continues
 * after the highest part number on the store as well as the one in the checkpoint, so no part name is
 * reused even after a rescale or a fresh start over old output; and stale in-progress files can be found.
 * The cost is one listing of the base path's tree per subtask start.
 *
 * @example
 * const { maxCounter } = await scanPartFiles(fs, '/data/out', new OutputFileConfig(), 0)
 */
export async function scanPartFiles(
  fs: FileSystem,
  basePath: string,
  names: OutputFileConfig,
  subtask: number,
): Promise<PartFileScan> {
  let maxCounter = -1
  const inProgress: FoundInProgressFile[] = []
  const walk = async (directory: string, bucket: string): Promise<void> => {
    for (const entry of await fs.list(directory)) {
      if (entry.isDirectory) {
        await walk(entry.path, bucket === '' ? entry.name : `${bucket}/${entry.name}`)
        continue
      }
      const parsed = names.parse(entry.name)
      if (parsed === undefined || parsed.subtask !== subtask) continue
      if (parsed.counter > maxCounter) maxCounter = parsed.counter
      if (parsed.inProgress) inProgress.push({ bucket, name: entry.name, path: entry.path })
    }
  }
  await walk(basePath, '')
  return { maxCounter, inProgress }
}
