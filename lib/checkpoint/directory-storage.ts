import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { access, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { StateError, messageOf } from '../errors.js'
import type { Logger } from '../logging.js'
import { createLogger } from '../logging.js'
import type { CheckpointStorage } from './checkpoint-storage.js'
import type { CheckpointMetadata, OperatorSubtaskState, StateHandle } from './checkpoint-types.js'
import { sha256OffThread } from './sha256-off-thread.js'
import { decodeStateFile, encodeStateFile } from './state-file.js'

const METADATA = '_metadata'

/**
 * Checkpoints in a directory, written atomically: every file goes to a temporary name, is fsynced and
 * renamed; a checkpoint is complete once its `_metadata` (with a checksum over its text) has been
 * renamed into place. The last `retain` checkpoints are kept. On restore, checkpoints whose metadata
 * or state files are missing, short or fail their checksum are skipped with a warning, and the newest
 * intact one is used; when none is intact the restore fails (see {@link latest}). A process killed at
 * any point leaves at worst a checkpoint that is skipped.
 *
 * Layout: `<dir>/chk-<id>/<uid>-<subtask>.state` and `<dir>/chk-<id>/_metadata`.
 *
 * @example
 * StreamEnvironment.create({ checkpointing: { intervalMs: 1000, storage: new DirectoryStorage('/var/lib/job/checkpoints', { retain: 3 }) } })
 */
export class DirectoryStorage implements CheckpointStorage {
  readonly description: string
  private readonly retain: number
  private readonly log: Logger
  /**
   * The bytes of every state file of the checkpoint `latest()` chose, verified there: the restore decodes
   * them without reading and hashing the files again. Dropped once a newer checkpoint completes.
   */
  private verified: { readonly id: number; readonly files: Map<string, Buffer> } | undefined
  /** Checkpoint directories this storage has written into, each prepared once. */
  private readonly prepared = new Map<string, Promise<void>>()

  constructor(
    readonly directory: string,
    options: { retain?: number; logger?: Logger } = {},
  ) {
    this.description = directory
    this.retain = options.retain ?? 3
    this.log = options.logger ?? createLogger()
  }

  async writeState(
    checkpointId: number,
    uid: string,
    subtask: number,
    state: OperatorSubtaskState,
  ): Promise<StateHandle> {
    const dir = join(this.directory, `chk-${checkpointId}`)
    await this.prepare(dir)
    const location = `chk-${checkpointId}/${safeName(uid)}-${subtask}.state`
    return writeAtomically(join(this.directory, location), stateParts(state), location)
  }

  /**
   * Creates a checkpoint's directory the first time this storage writes into it. A directory of the same
   * id left by a killed process (ids restart from the newest complete checkpoint) may hold its `*.tmp`
   * files: they are removed, as no writer of this process made them. Temporary files named with this
   * process's id are left alone: with the worker executor, other threads of this process write into the
   * same directory through storages of their own.
   */
  private prepare(dir: string): Promise<void> {
    let ready = this.prepared.get(dir)
    if (ready === undefined) {
      ready = mkdir(dir, { recursive: true })
        .then(() => readdir(dir))
        .then((names) =>
          Promise.all(
            names
              .filter((n) => n.endsWith('.tmp') && !n.endsWith(`.${process.pid}.tmp`))
              .map((n) => rm(join(dir, n), { force: true })),
          ),
        )
        .then(() => undefined)
      this.prepared.set(dir, ready)
    }
    return ready
  }

  async readState(handle: StateHandle): Promise<OperatorSubtaskState> {
    const bytes = this.verified?.files.get(handle.location)
    if (bytes !== undefined) return decodeStateFile(bytes, handle.location)
    return readVerified(join(this.directory, handle.location), handle)
  }

  /** Writes the metadata, then drops older checkpoints beyond retention and older ones that never completed. */
  async complete(metadata: CheckpointMetadata): Promise<void> {
    await writeMetadata(join(this.directory, `chk-${metadata.id}`), metadata)
    if (this.verified !== undefined && metadata.id > this.verified.id) this.verified = undefined
  }

  async prune(latestId: number, keep: readonly number[]): Promise<void> {
    const regular: number[] = []
    for (const id of await this.checkpointIds()) {
      if (id > latestId || keep.includes(id)) continue
      const dir = join(this.directory, `chk-${id}`)
      if (!(await exists(join(dir, METADATA)))) {
        if (id < latestId) await this.discard(id)
        continue
      }
      // savepoints are kept: retention counts only regular checkpoints
      if (
        !(await readMetadata(dir).then(
          (m) => m.savepoint,
          () => false,
        ))
      )
        regular.push(id)
    }
    for (const id of regular.slice(0, Math.max(0, regular.length - this.retain))) await this.discard(id)
  }

  async discard(checkpointId: number): Promise<void> {
    this.prepared.delete(join(this.directory, `chk-${checkpointId}`))
    await rm(join(this.directory, `chk-${checkpointId}`), { recursive: true, force: true })
  }

  /**
   * The newest checkpoint whose metadata and state files are all intact; each file is read and checked
   * once here, and the restore takes the verified bytes. Newer damaged ones are skipped with a warning;
   * directories without metadata never completed and are skipped quietly. When checkpoints completed
   * but none can be read it throws ERR_NO_READABLE_CHECKPOINT, naming each and why it was rejected:
   * starting from empty state would repeat what exactly-once sinks already committed.
   */
  async latest(): Promise<CheckpointMetadata | undefined> {
    const ids = await this.checkpointIds()
    const rejected: string[] = []
    for (const id of ids.reverse()) {
      const dir = join(this.directory, `chk-${id}`)
      let metadata: CheckpointMetadata
      try {
        metadata = await readMetadata(dir)
      } catch (error) {
        if ((error as StateError).code === 'ERR_CHECKPOINT_INCOMPLETE') {
          this.log.debug('skipping checkpoint that never completed', { checkpoint: id, directory: dir })
          continue
        }
        rejected.push(`chk-${id}: ${messageOf(error)}`)
        this.log.warn('skipping checkpoint that is corrupted', {
          checkpoint: id,
          directory: dir,
          reason: messageOf(error),
        })
        continue
      }
      try {
        const files = new Map<string, Buffer>()
        for (const operator of Object.values(metadata.operators))
          for (const handle of operator.subtasks)
            if (handle !== null)
              files.set(handle.location, await readVerifiedBytes(join(this.directory, handle.location), handle))
        this.verified = { id, files }
        return metadata
      } catch (error) {
        rejected.push(`chk-${id}: ${messageOf(error)}`)
        this.log.warn('skipping checkpoint that is incomplete or corrupted', {
          checkpoint: id,
          directory: dir,
          reason: messageOf(error),
        })
      }
    }
    if (rejected.length > 0)
      throw new StateError(
        'ERR_NO_READABLE_CHECKPOINT',
        `could not read any of the ${rejected.length} completed checkpoint${rejected.length === 1 ? '' : 's'} in ${this.directory} (${rejected.join('; ')}); repair or remove them, or set checkpointing.onUnreadableCheckpoints to 'start-fresh' to start from empty state`,
      )
    return undefined
  }

  async saveSavepoint(metadata: CheckpointMetadata, directory: string): Promise<string> {
    return DirectoryStorage.exportSavepoint(metadata, directory, (handle) => this.readState(handle))
  }

  /**
   * Writes a self-contained savepoint: every state copied into `directory`, then its metadata.
   *
   * @example
   * await DirectoryStorage.exportSavepoint(metadata, '/savepoints/sp-1', (h) => storage.readState(h))
   */
  static async exportSavepoint(
    metadata: CheckpointMetadata,
    directory: string,
    read: (handle: StateHandle) => Promise<OperatorSubtaskState>,
  ): Promise<string> {
    await mkdir(directory, { recursive: true })
    const operators: Record<string, CheckpointMetadata['operators'][string]> = {}
    for (const [uid, operator] of Object.entries(metadata.operators)) {
      const subtasks: Array<StateHandle | null> = []
      for (const [i, handle] of operator.subtasks.entries()) {
        if (handle === null) subtasks.push(null)
        else {
          const location = `${safeName(uid)}-${i}.state`
          subtasks.push(await writeAtomically(join(directory, location), stateParts(await read(handle)), location))
        }
      }
      operators[uid] = { ...operator, subtasks }
    }
    await writeMetadata(directory, { ...metadata, savepoint: true, operators })
    return directory
  }

  /**
   * Opens a savepoint (or a retained checkpoint directory `chk-<id>`) to start a job from it.
   *
   * @example
   * const { metadata, read } = await DirectoryStorage.openSavepoint('/savepoints/sp-1')
   */
  static async openSavepoint(
    directory: string,
  ): Promise<{ metadata: CheckpointMetadata; read: (handle: StateHandle) => Promise<OperatorSubtaskState> }> {
    const metadata = DirectoryStorage.savepointMetadata(directory)
    // an exported savepoint's locations are relative to its directory; a retained checkpoint's
    // (`chk-<id>/…`, savepoint or not) to the storage root above it
    const base = basename(directory) === `chk-${metadata.id}` ? dirname(directory) : directory
    return { metadata, read: (handle) => readVerified(join(base, handle.location), handle) }
  }

  /**
   * The metadata of a savepoint (or retained `chk-<id>`) directory, read at once so that a job that
   * cannot start from it fails before it is started: the directory does not exist
   * (ERR_SAVEPOINT_NOT_FOUND), holds no `_metadata` (ERR_CHECKPOINT_INCOMPLETE: not a savepoint or a
   * completed checkpoint) or a damaged one (ERR_STATE_CORRUPT). State files are checked when read.
   *
   * @example
   * const { id } = DirectoryStorage.savepointMetadata('/savepoints/sp-1')
   */
  static savepointMetadata(directory: string): CheckpointMetadata {
    if (!existsSync(directory))
      throw new StateError('ERR_SAVEPOINT_NOT_FOUND', `restoreFrom ${directory}: no such directory`)
    const path = join(directory, METADATA)
    if (!existsSync(path))
      throw new StateError(
        'ERR_CHECKPOINT_INCOMPLETE',
        `restoreFrom ${directory}: no ${METADATA} in it, so it is not a savepoint or a completed checkpoint (chk-<id>)`,
      )
    return parseMetadata(readFileSync(path, 'utf8'), directory)
  }

  private async checkpointIds(): Promise<number[]> {
    let names: string[]
    try {
      names = await readdir(this.directory)
    } catch {
      return []
    }
    return names
      .map((n) => /^chk-(\d+)$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b)
  }
}

/**
 * Writes the parts to a temporary file, fsyncs, renames. The parts are written from where they are (a
 * keyed snapshot's buffer is not copied), and their SHA-256 is computed on another thread while the
 * file syncs: the event loop pays for neither (see {@link sha256OffThread}).
 */
async function writeAtomically(path: string, parts: readonly Uint8Array[], location: string): Promise<StateHandle> {
  const temp = `${path}.${process.pid}.tmp`
  const file = await open(temp, 'w')
  let digest: Promise<string>
  try {
    for (const part of parts) await file.write(part)
    digest = sha256OffThread(parts)
    await file.sync()
  } finally {
    await file.close()
  }
  const checksum = await digest
  await rename(temp, path)
  let bytes = 0
  for (const part of parts) bytes += part.byteLength
  return { location, bytes, checksum }
}

/** A subtask state as the parts of its state file. */
function stateParts(state: OperatorSubtaskState): Uint8Array[] {
  const { head, body } = encodeStateFile(state)
  return body === undefined ? [head] : [head, body]
}

async function writeMetadata(dir: string, metadata: CheckpointMetadata): Promise<void> {
  await mkdir(dir, { recursive: true })
  const body = JSON.stringify(metadata)
  await writeAtomically(join(dir, METADATA), [Buffer.from(JSON.stringify({ checksum: sha256(body), body }))], METADATA)
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

async function readMetadata(dir: string): Promise<CheckpointMetadata> {
  const text = await readFile(join(dir, METADATA), 'utf8').catch((error) => {
    throw new StateError('ERR_CHECKPOINT_INCOMPLETE', `no metadata in ${dir}: ${messageOf(error)}`)
  })
  return parseMetadata(text, dir)
}

/** The metadata in a `_metadata` file's text, once its checksum matches. */
function parseMetadata(text: string, dir: string): CheckpointMetadata {
  let wrapper: { checksum: string; body: string }
  try {
    wrapper = JSON.parse(text)
  } catch {
    throw new StateError('ERR_STATE_CORRUPT', `metadata in ${dir} is not valid JSON`)
  }
  if (typeof wrapper?.body !== 'string' || sha256(wrapper.body) !== wrapper.checksum)
    throw new StateError('ERR_STATE_CORRUPT', `metadata in ${dir} fails its checksum`)
  return JSON.parse(wrapper.body) as CheckpointMetadata
}

async function readVerified(path: string, handle: StateHandle): Promise<OperatorSubtaskState> {
  return decodeStateFile(await readVerifiedBytes(path, handle), handle.location)
}

/** A state file's bytes, once their size and SHA-256 match what the checkpoint recorded. */
async function readVerifiedBytes(path: string, handle: StateHandle): Promise<Buffer> {
  const content = await readFile(path).catch((error) => {
    throw new StateError('ERR_STATE_MISSING', `state file ${path} cannot be read: ${messageOf(error)}`)
  })
  const bytes = content.length
  if (bytes !== handle.bytes)
    throw new StateError(
      'ERR_STATE_CORRUPT',
      `state file ${path} is ${bytes} bytes, the checkpoint recorded ${handle.bytes}: it is truncated or was overwritten`,
    )
  const checksum = createHash('sha256').update(content).digest('hex')
  if (checksum !== handle.checksum)
    throw new StateError(
      'ERR_STATE_CORRUPT',
      `state file ${path} has the recorded size (${bytes} bytes) but its content changed: SHA-256 ${checksum.slice(0, 12)}…, recorded ${handle.checksum.slice(0, 12)}…`,
    )
  return content
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  )
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

function safeName(uid: string): string {
  return uid.replace(/[^A-Za-z0-9._-]/g, '_')
}
