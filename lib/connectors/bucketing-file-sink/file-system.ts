/** An entry of a directory listing. */
export interface FileEntry {
  /** The entry's name inside its directory. */
  readonly name: string
  /** The full path, as {@link FileSystem.join} builds it. */
  readonly path: string
  readonly isDirectory: boolean
}

/** How {@link FileSystem.create} treats an existing file. */
export type CreateMode = 'create' | 'overwrite' | 'append'

/**
 * A file open for writing. Writes are ordered; nothing is promised durable until `sync()` resolves.
 *
 * @example
 * const file = await fs.create('/out/.part-0-0.inprogress.1234', { mode: 'create' })
 * await file.write(Buffer.from('a\n')); await file.sync(); await file.close()
 */
export interface WritableFile {
  readonly path: string
  /** Appends `data` whole (a short write is continued, never reported as done). */
  write(data: Uint8Array): Promise<void>
  /** Appends `chunks` whole, in order, in as few calls to the store as it can (writev(2) on a disk). */
  writev?(chunks: readonly Uint8Array[]): Promise<void>
  /** True when the file keeps no reference to what it was given once a write has resolved (the caller may reuse it). */
  readonly releasesWrites?: boolean
  /**
   * True when a write may start before the earlier ones have resolved: each takes its place in the file
   * when it is called (a positional write), so writes called in order land in order however they finish.
   */
  readonly overlapsWrites?: boolean
  /** Durable flush of the content written so far (fsync, or the store's equivalent: hflush/hsync). */
  sync(): Promise<void>
  close(): Promise<void>
}

/**
 * What the bucketing file sink needs of a store, kept small so a store other than the local disk
 * (HDFS over WebHDFS, S3) can be added as one class. Paths are the store's own strings; the sink only
 * builds them with {@link FileSystem.join}.
 *
 * Contract the sink relies on:
 * - `create(path, { mode: 'create' })` fails when `path` exists (the sink never overwrites a part file);
 * - `rename` is atomic where the store allows. A store that can only copy and delete (S3) must make a
 *   repeated rename of the same pair finish the job, because a commit can be repeated after a crash;
 * - `list` of a missing directory is empty, and `delete` of a missing path is not an error.
 *
 * @example
 * class WebHdfsFileSystem implements FileSystem { ... } // then bucketingFileSink('/data/out', { fileSystem: new WebHdfsFileSystem(url) })
 */
export interface FileSystem {
  /** Names the store in errors and logs ('local', 'webhdfs://nn:9870', 's3://bucket'). */
  readonly name: string
  /** Opens `path` for writing; the parent directory must exist. */
  create(path: string, options?: { mode?: CreateMode }): Promise<WritableFile>
  /** Moves `from` to `to`, replacing `to` if the store does (callers check first when that matters). */
  rename(from: string, to: string): Promise<void>
  exists(path: string): Promise<boolean>
  /** The entries of `directory`; empty when it does not exist. */
  list(directory: string): Promise<FileEntry[]>
  /** Removes a file, or a directory (its content too when `recursive`); false when nothing was there. */
  delete(path: string, options?: { recursive?: boolean }): Promise<boolean>
  /** Creates `path` and every missing parent; no error when it exists. */
  mkdirs(path: string): Promise<void>
  /**
   * Makes the creation and renaming of entries in `directory` durable (fsync of the directory on a
   * POSIX disk). Stores whose namespace operations are durable when they return omit it.
   */
  syncDirectory?(directory: string): Promise<void>
  /**
   * Cuts `path` to its first `length` bytes, for a writer that resumes a file after a restore (a
   * recoverable writer). 'valid-length' when the store cannot truncate and wrote a valid-length file
   * beside it instead (BucketingSink's fallback). Optional: stores without it cannot resume a file.
   */
  truncate?(path: string, length: number): Promise<'truncated' | 'valid-length'>
  /** The whole content of a file (compaction reads the parts it merges); optional: without it, no compaction. */
  read?(path: string): Promise<Uint8Array>
  /** Joins path segments with the store's separator. */
  join(...segments: string[]): string
}
