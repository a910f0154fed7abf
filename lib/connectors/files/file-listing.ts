import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** A regular file found by a scan: what a reader needs to see whether it grew, shrank or was replaced. */
export interface ListedFile {
  readonly path: string
  readonly name: string
  readonly size: number
  /** The inode: a file renamed away and created again under the same name gets a new one. */
  readonly ino: number
}

/**
 * The regular files directly inside `dir` (symbolic links followed, subdirectories not entered) whose
 * names `accepts`, sorted by name so every scan hands them out in the same order.
 *
 * @example
 * const files = await listDirectory('/var/log/app', (name) => name.endsWith('.log'))
 */
export async function listDirectory(dir: string, accepts: (name: string) => boolean): Promise<ListedFile[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const names = entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && accepts(e.name))
    .map((e) => e.name)
    .sort()
  const files = await Promise.all(names.map((name) => statFile(join(dir, name), name)))
  return files.filter((f): f is ListedFile => f !== undefined)
}

/**
 * The size and inode of one regular file; undefined when it does not exist (any more) or is no file.
 *
 * @example
 * const file = await statFile('/data/input.txt', 'input.txt')
 */
export async function statFile(path: string, name: string): Promise<ListedFile | undefined> {
  try {
    const stats = await stat(path)
    return stats.isFile() ? { path, name, size: stats.size, ino: stats.ino } : undefined
  } catch (error) {
    // Deleted between the listing and the stat: the next scan will not list it either.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
