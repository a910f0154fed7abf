import { posix } from 'node:path'
import { ConnectorError } from '../../errors.js'
import { backoffDelay } from '../../util/backoff.js'
import type { CreateMode, FileEntry, FileSystem, WritableFile } from '../bucketing-file-sink/file-system.js'
import type { WebHdfsSettings } from './options.js'
import { WebHdfsClient } from './webhdfs-client.js'
import { WebHdfsError } from './webhdfs-error.js'

/** BucketingSink's names for the file that says how much of a part file is valid. */
const VALID_LENGTH_PREFIX = '_'
const VALID_LENGTH_SUFFIX = '.valid-length'

/** Exceptions with which a server says it has no TRUNCATE (HttpFS and NameNodes before Hadoop 2.7). */
const NO_TRUNCATE = new Set(['IllegalArgumentException', 'UnsupportedOperationException'])

interface FileStatus {
  readonly pathSuffix: string
  readonly type: 'FILE' | 'DIRECTORY' | 'SYMLINK'
  readonly length: number
}

/**
 * HDFS through WebHDFS (or HttpFS), as the bucketing file sink's {@link FileSystem}. Paths are absolute
 * HDFS paths ('/data/out'). What each operation is on the wire:
 * - `create`: CREATE (two-step: the NameNode redirects to a DataNode) with no data, `overwrite=false`
 *   for mode 'create', so an existing file is refused (FileAlreadyExistsException);
 * - `write`: held in memory up to `appendBufferBytes`, then sent with one APPEND (two-step);
 * - `sync`: APPEND of what is held. WebHDFS has no hflush or hsync operation: each CREATE and APPEND
 *   closes its HDFS output stream when its data ends, and a closed block is acknowledged by every
 *   DataNode of its pipeline (what hflush promises) and complete on the NameNode. Written to the
 *   DataNodes' disks (hsync) it is only where the cluster sets `dfs.datanode.synconclose=true`;
 * - `rename`: RENAME, atomic on the NameNode; it does not replace an existing target (refused);
 * - `truncate`: TRUNCATE (Hadoop 2.7+), or, where the server has none (HttpFS, older NameNodes), a
 *   valid-length file `_<name>.valid-length` beside it holding the length, as Flink's BucketingSink did;
 * - `list`: LISTSTATUS; `delete`: DELETE; `mkdirs`: MKDIRS; `exists`: GETFILESTATUS.
 *
 * An APPEND that failed after its data left (a DataNode restarted mid-request) is not sent again
 * blindly: the file's length says whether it was done (then it counts as done), not done (sent
 * again), or done in part (the file is truncated back, then it is sent again), so no byte is doubled.
 * Namespace operations are durable on the NameNode (edit log) when they answer: no `syncDirectory`.
 *
 * @example
 * const fs = new WebHdfsFileSystem(webHdfsSettings({ url: 'http://namenode:9870', user: 'etl' }))
 * const file = await fs.create('/out/.part-0-0.inprogress.x')
 * await file.write(Buffer.from('a\n')); await file.sync(); await file.close()
 */
export class WebHdfsFileSystem implements FileSystem {
  readonly name: string
  readonly client: WebHdfsClient

  constructor(readonly settings: WebHdfsSettings) {
    this.client = new WebHdfsClient(settings)
    this.name = `webhdfs://${new URL(settings.urls[0]!).host}`
  }

  async create(path: string, options: { mode?: CreateMode } = {}): Promise<WritableFile> {
    const mode = options.mode ?? 'create'
    if (mode === 'append') {
      const status = await this.status(path)
      if (status !== undefined) return new WebHdfsWritableFile(this, path, status.length)
    }
    try {
      await this.client.call('CREATE', path, {
        params: { overwrite: String(mode === 'overwrite') },
        body: new Uint8Array(0),
      })
    } catch (error) {
      // An earlier attempt of this CREATE may have created the file and lost its answer.
      const echo =
        error instanceof WebHdfsError &&
        error.exception === 'FileAlreadyExistsException' &&
        error.afterAmbiguousAttempt &&
        (await this.status(path))?.length === 0
      if (!echo) throw error
    }
    return new WebHdfsWritableFile(this, path, 0)
  }

  async rename(from: string, to: string): Promise<void> {
    const answer = (await this.client.call('RENAME', from, { params: { destination: to } })) as { boolean?: boolean }
    if (answer.boolean !== true)
      throw new ConnectorError(
        'ERR_HDFS',
        `webhdfs RENAME ${from} to ${to} at ${this.client.url} refused: the source is missing or the target exists`,
      )
  }

  async exists(path: string): Promise<boolean> {
    return (await this.status(path)) !== undefined
  }

  async list(directory: string): Promise<FileEntry[]> {
    let answer: { FileStatuses?: { FileStatus?: FileStatus[] } }
    try {
      answer = (await this.client.call('LISTSTATUS', directory)) as typeof answer
    } catch (error) {
      if (isNotFound(error)) return []
      throw error
    }
    const statuses = answer.FileStatuses?.FileStatus ?? []
    // LISTSTATUS of a file lists the file itself, with an empty pathSuffix: not a directory's entry.
    return statuses
      .filter((s) => s.pathSuffix !== '')
      .map((s) => ({
        name: s.pathSuffix,
        path: posix.join(directory, s.pathSuffix),
        isDirectory: s.type === 'DIRECTORY',
      }))
  }

  async delete(path: string, options: { recursive?: boolean } = {}): Promise<boolean> {
    const answer = (await this.client.call('DELETE', path, {
      params: { recursive: String(options.recursive === true) },
    })) as { boolean?: boolean }
    return answer.boolean === true
  }

  async mkdirs(path: string): Promise<void> {
    const answer = (await this.client.call('MKDIRS', path)) as { boolean?: boolean }
    if (answer.boolean !== true)
      throw new ConnectorError('ERR_HDFS', `webhdfs MKDIRS ${path} at ${this.client.url} refused`)
  }

  /**
   * Cuts `path` to its first `length` bytes with TRUNCATE; where the server has no TRUNCATE, writes
   * `_<name>.valid-length` beside it instead (readers then read only that many bytes) and answers
   * 'valid-length'. A truncate inside a block needs the block recovered by its DataNodes (TRUNCATE
   * answers false): this waits until GETFILESTATUS shows the new length, at most `requestTimeoutMs`;
   * until then readers still see the old content.
   *
   * @example
   * await fs.truncate('/out/.part-0-3.inprogress.x', 1024) // 'truncated'
   */
  async truncate(path: string, length: number): Promise<'truncated' | 'valid-length'> {
    try {
      const answer = (await this.client.call('TRUNCATE', path, { params: { newlength: String(length) } })) as {
        boolean?: boolean
      }
      if (answer.boolean !== true) await this.awaitLength(path, length)
      return 'truncated'
    } catch (error) {
      if (!(error instanceof WebHdfsError && NO_TRUNCATE.has(error.exception))) throw error
    }
    const file = await this.create(validLengthPath(path), { mode: 'overwrite' })
    await file.write(Buffer.from(String(length)))
    await file.close()
    return 'valid-length'
  }

  /**
   * The whole content of `path` (OPEN, two-step): for tests and small files.
   *
   * @example
   * const bytes = await fs.read('/out/part-0-0')
   */
  async read(path: string): Promise<Uint8Array> {
    return (await this.client.call('OPEN', path, { binary: true })) as Uint8Array
  }

  join(...segments: string[]): string {
    return posix.join(...segments)
  }

  /** Polls GETFILESTATUS (50 ms, doubling to 1 s) until `path` is `length` bytes long. */
  private async awaitLength(path: string, length: number): Promise<void> {
    const deadline = performance.now() + this.settings.requestTimeoutMs
    for (let attempt = 0; (await this.status(path))?.length !== length; attempt++) {
      if (performance.now() > deadline)
        throw new ConnectorError(
          'ERR_HDFS',
          `webhdfs TRUNCATE ${path} at ${this.client.url}: the block recovery did not finish within ${this.settings.requestTimeoutMs} ms`,
        )
      await new Promise((resolve) =>
        setTimeout(resolve, backoffDelay(attempt, { initialDelayMs: 50, maxDelayMs: 1000 })),
      )
    }
  }

  /** GETFILESTATUS of `path`; undefined when it does not exist. */
  async status(path: string): Promise<FileStatus | undefined> {
    try {
      const answer = (await this.client.call('GETFILESTATUS', path)) as { FileStatus: FileStatus }
      return answer.FileStatus
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }
}

/**
 * A file open for writing on WebHDFS: bytes are held until `appendBufferBytes`, `sync` or `close`, then
 * appended with one APPEND. `length` is the file's length as this writer knows it.
 */
class WebHdfsWritableFile implements WritableFile {
  private held: Uint8Array[] = []
  private heldBytes = 0
  private closed = false

  constructor(
    private readonly fs: WebHdfsFileSystem,
    readonly path: string,
    private length: number,
  ) {}

  async write(data: Uint8Array): Promise<void> {
    if (this.closed) throw new ConnectorError('ERR_HDFS', `webhdfs: ${this.path} is closed`)
    if (data.byteLength === 0) return
    this.held.push(data)
    this.heldBytes += data.byteLength
    if (this.heldBytes >= this.fs.settings.appendBufferBytes) await this.append()
  }

  async sync(): Promise<void> {
    await this.append()
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.append()
    this.closed = true
  }

  private async append(): Promise<void> {
    if (this.heldBytes === 0) return
    const data = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held)
    this.held = []
    this.heldBytes = 0
    const start = this.length
    const end = start + data.byteLength
    await this.fs.client.call('APPEND', this.path, {
      body: data,
      beforeAmbiguousRetry: async () => {
        const now = (await this.fs.status(this.path))?.length
        if (now === end) return 'done'
        if (now === undefined || now < start || now > end)
          throw new ConnectorError(
            'ERR_HDFS',
            `webhdfs APPEND ${this.path}: the file is ${now ?? 'gone'} bytes long, not ${start}..${end}: changed by another writer`,
          )
        if (now > start && (await this.fs.truncate(this.path, start)) !== 'truncated')
          throw new ConnectorError(
            'ERR_HDFS',
            `webhdfs APPEND ${this.path}: an append was cut off after ${now - start} of ${end - start} bytes and the server cannot truncate`,
          )
        return 'retry'
      },
    })
    this.length = end
  }
}

/**
 * The valid-length file of `path`: `_<name>.valid-length` in its directory (BucketingSink's names).
 *
 * @example
 * validLengthPath('/out/b/.part-0-1.inprogress.x') // '/out/b/_.part-0-1.inprogress.x.valid-length'
 */
export function validLengthPath(path: string): string {
  return posix.join(posix.dirname(path), `${VALID_LENGTH_PREFIX}${posix.basename(path)}${VALID_LENGTH_SUFFIX}`)
}

function isNotFound(error: unknown): boolean {
  return error instanceof WebHdfsError && error.exception === 'FileNotFoundException'
}
