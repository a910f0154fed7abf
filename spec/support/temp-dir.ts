import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { passTempDir, replayedTest } from './worker-pass/pass-context.js'

/** A fresh directory under the system's temp directory, and its removal. */
export interface TempDir {
  readonly path: string
  /** A path inside the directory (not created). */
  file(name: string): string
  remove(): void
}

/**
 * Creates a uniquely named directory under `os.tmpdir()`; `remove()` deletes it with its contents.
 * Tests create their files in it and remove it in `after`/`finally`, so runs leave nothing behind.
 * In a worker thread of the worker-executor test pass it is the coordinator's directory, which the
 * worker leaves in place.
 *
 * @example
 * const dir = tempDir('sluice-files-')
 * try { writeFileSync(dir.file('a.txt'), 'x\n') } finally { dir.remove() }
 */
export function tempDir(prefix = 'sluice-spec-'): TempDir {
  const path = passTempDir(join(tmpdir(), prefix))
  return {
    path,
    file: (name) => join(path, name),
    remove: () => {
      if (replayedTest() === undefined) rmSync(path, { recursive: true, force: true })
    },
  }
}
