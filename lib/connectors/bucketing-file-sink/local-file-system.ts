import {
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  truncate,
  unlink,
  type FileHandle,
} from 'node:fs/promises'
import { join } from 'node:path'
import type { CreateMode, FileEntry, FileSystem, WritableFile } from './file-system.js'

const FLAGS: Record<CreateMode, string> = { create: 'wx', overwrite: 'w', append: 'a' }

/**
 * The local disk, on node:fs/promises. `rename` is POSIX rename(2): atomic within one file system, and
 * it replaces the target. `sync` is fsync(2) of the file; `syncDirectory` fsyncs the directory so that
 * a created or renamed entry survives a power loss (skipped where the platform cannot open a directory,
 * as on Windows).
 *
 * @example
 * const fs = new LocalFileSystem()
 * await fs.mkdirs('/tmp/out/2024-01-01--10')
 * const file = await fs.create('/tmp/out/2024-01-01--10/.part-0-0.inprogress.x')
 */
export class LocalFileSystem implements FileSystem {
  readonly name = 'local'

  async create(path: string, options: { mode?: CreateMode } = {}): Promise<WritableFile> {
    const handle = await open(path, FLAGS[options.mode ?? 'create'])
    return new LocalWritableFile(path, handle)
  }

  read(path: string): Promise<Uint8Array> {
    return readFile(path)
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(from, to)
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(path)
      return true
    } catch (error) {
      if (isMissing(error)) return false
      throw error
    }
  }

  async list(directory: string): Promise<FileEntry[]> {
    try {
      const entries = await readdir(directory, { withFileTypes: true })
      return entries.map((e) => ({ name: e.name, path: join(directory, e.name), isDirectory: e.isDirectory() }))
    } catch (error) {
      if (isMissing(error)) return []
      throw error
    }
  }

  async delete(path: string, options: { recursive?: boolean } = {}): Promise<boolean> {
    try {
      const info = await stat(path)
      if (!info.isDirectory()) await unlink(path)
      else if (options.recursive === true) await rm(path, { recursive: true, force: true })
      else await rmdir(path)
      return true
    } catch (error) {
      if (isMissing(error)) return false
      throw error
    }
  }

  async mkdirs(path: string): Promise<void> {
    await mkdir(path, { recursive: true })
  }

  async syncDirectory(directory: string): Promise<void> {
    let handle: FileHandle | undefined
    try {
      handle = await open(directory, 'r')
      await handle.sync()
    } catch (error) {
      // Windows cannot open or fsync a directory; there, a rename is as durable as the platform makes it.
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error
    } finally {
      await handle?.close()
    }
  }

  async truncate(path: string, length: number): Promise<'truncated'> {
    await truncate(path, length)
    return 'truncated'
  }

  join(...segments: string[]): string {
    return join(...segments)
  }
}

class LocalWritableFile implements WritableFile {
  readonly releasesWrites = true

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  async write(data: Uint8Array): Promise<void> {
    let offset = 0
    while (offset < data.byteLength) {
      const { bytesWritten } = await this.handle.write(data, offset, data.byteLength - offset)
      offset += bytesWritten
    }
  }

  async writev(chunks: readonly Uint8Array[]): Promise<void> {
    let total = 0
    for (const chunk of chunks) total += chunk.byteLength
    const { bytesWritten } = await this.handle.writev(chunks as Uint8Array[])
    if (bytesWritten === total) return
    // a short write: the rest goes out chunk by chunk, from where it stopped
    let skip = bytesWritten
    for (const chunk of chunks) {
      if (skip >= chunk.byteLength) {
        skip -= chunk.byteLength
        continue
      }
      await this.write(skip === 0 ? chunk : chunk.subarray(skip))
      skip = 0
    }
  }

  async sync(): Promise<void> {
    await this.handle.sync()
  }

  async close(): Promise<void> {
    await this.handle.close()
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}
