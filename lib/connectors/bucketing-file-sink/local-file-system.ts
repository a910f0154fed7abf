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
    const mode = options.mode ?? 'create'
    const handle = await open(path, FLAGS[mode])
    // A new or emptied file is written at offsets from 0; an appended one at its end (O_APPEND, which
    // ignores offsets), so its writes stay one at a time.
    return new LocalWritableFile(path, handle, mode === 'append' ? undefined : 0)
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

/**
 * A file open for writing. A created or overwritten file is written with positional writes (pwrite(2),
 * pwritev(2)), each at the offset its call claims, so several may be in flight at once: a write queued
 * behind another starts in the thread pool as soon as that one is done, without waiting for the event
 * loop to hand it over. An appended file is written at the kernel's position, one write at a time.
 */
class LocalWritableFile implements WritableFile {
  readonly releasesWrites = true
  readonly overlapsWrites: boolean

  constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** Where the next write goes; undefined for an appended file. */
    private position: number | undefined,
  ) {
    this.overlapsWrites = position !== undefined
  }

  write(data: Uint8Array): Promise<void> {
    return this.writeAt(data, this.claim(data.byteLength))
  }

  async writev(chunks: readonly Uint8Array[]): Promise<void> {
    let total = 0
    for (const chunk of chunks) total += chunk.byteLength
    const start = this.claim(total)
    const { bytesWritten } = await this.handle.writev(chunks as Uint8Array[], start)
    if (bytesWritten === total) return
    // a short write: the rest goes out chunk by chunk, from where it stopped
    let skip = bytesWritten
    let at = start === undefined ? undefined : start + bytesWritten
    for (const chunk of chunks) {
      if (skip >= chunk.byteLength) {
        skip -= chunk.byteLength
        continue
      }
      const rest = skip === 0 ? chunk : chunk.subarray(skip)
      await this.writeAt(rest, at)
      if (at !== undefined) at += rest.byteLength
      skip = 0
    }
  }

  /** The offset of a write of `bytes` called now (undefined: the kernel's position). */
  private claim(bytes: number): number | undefined {
    const at = this.position
    if (at !== undefined) this.position = at + bytes
    return at
  }

  private async writeAt(data: Uint8Array, at: number | undefined): Promise<void> {
    let offset = 0
    while (offset < data.byteLength) {
      const position = at === undefined ? null : at + offset
      const { bytesWritten } = await this.handle.write(data, offset, data.byteLength - offset, position)
      offset += bytesWritten
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
