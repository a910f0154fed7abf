import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { CheckpointCoordinator } from '../../lib/checkpoint/checkpoint-coordinator.js'
import type { CheckpointMetadata } from '../../lib/checkpoint/checkpoint-types.js'
import { DirectoryStorage } from '../../lib/checkpoint/directory-storage.js'
import { MemoryStorage } from '../../lib/checkpoint/memory-storage.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import type { SluiceError } from '../../lib/errors.js'
import { createLogger } from '../../lib/logging.js'
import { tempDir } from '../support/temp-dir.js'
import { coordinatorOnly } from '../support/worker-pass/pass-context.js'

type Line = { level: string; msg: string } & Record<string, unknown>
const silent = createLogger({ level: 'silent' })

function capture(): { lines: Line[]; logger: ReturnType<typeof createLogger> } {
  const lines: Line[] = []
  return { lines, logger: createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l)) }) }
}

/** Writes checkpoint `id` with one state of operator `uid` into `storage`; returns its metadata. */
async function checkpoint(storage: DirectoryStorage, id: number, uid = 'gone'): Promise<CheckpointMetadata> {
  const handle = await storage.writeState(id, uid, 0, { split: [`position ${id}`] })
  const metadata: CheckpointMetadata = {
    format: 1,
    id,
    timestamp: Date.now(),
    job: 'restore errors',
    savepoint: false,
    operators: { [uid]: { parallelism: 1, maxParallelism: 128, subtasks: [handle] } },
    bytes: handle.bytes,
  }
  await storage.complete(metadata)
  return metadata
}

function errorOf(fn: () => unknown): SluiceError {
  try {
    fn()
  } catch (error) {
    return error as SluiceError
  }
  throw new Error('expected an error')
}

const rejection = (promise: Promise<unknown>): Promise<SluiceError> =>
  promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: SluiceError) => e,
  )

test('when every completed checkpoint is damaged, the restore fails naming each and why; start-fresh is an explicit choice', async () => {
  const dir = tempDir('sluice-damaged-')
  try {
    // the damaged checkpoints are written once, by the coordinator (a replaying worker finds them there)
    await coordinatorOnly(async () => {
      const storage = new DirectoryStorage(dir.path, { logger: silent, retain: 5 })
      const one = await checkpoint(storage, 1)
      const two = await checkpoint(storage, 2)
      truncateSync(join(dir.path, one.operators.gone!.subtasks[0]!.location), 3)
      const twoPath = join(dir.path, two.operators.gone!.subtasks[0]!.location)
      writeFileSync(twoPath, readFileSync(twoPath, 'utf8').replace('position 2', 'position 9'))
      mkdirSync(join(dir.path, 'chk-3')) // never completed: no metadata, not a damaged checkpoint

      const error = await rejection(new DirectoryStorage(dir.path, { logger: silent }).latest())
      assert.is(error.code, 'ERR_NO_READABLE_CHECKPOINT')
      assert.match(error.message, 'could not read any of the 2 completed checkpoints')
      assert.match(error.message, /chk-2: state file .* has the recorded size \(\d+ bytes\) but its content changed/)
      assert.match(error.message, /chk-1: state file .* is 3 bytes, the checkpoint recorded \d+: it is truncated/)
      assert.not.match(error.message, 'chk-3')
    }, undefined)

    const failing = StreamEnvironment.create({
      logLevel: 'silent',
      checkpointing: { intervalMs: 50, storage: new DirectoryStorage(dir.path, { logger: silent }) },
    })
    failing.fromElements(1).sinkTo(new CallbackSink(() => {}))
    assert.is((await rejection(failing.execute('damaged'))).code, 'ERR_NO_READABLE_CHECKPOINT')

    const { lines, logger } = capture()
    const fresh = StreamEnvironment.create({
      logger,
      checkpointing: {
        intervalMs: 50,
        storage: new DirectoryStorage(dir.path, { logger: silent }),
        onUnreadableCheckpoints: 'start-fresh',
      },
    })
    const out: number[] = []
    fresh.fromElements(1, 2).sinkTo(new CallbackSink((v: number) => out.push(v)))
    assert.is((await fresh.execute('fresh')).status, 'finished')
    assert.equal(out, [1, 2])
    assert.ok(lines.some((l) => l.level === 'warn' && l.msg.startsWith('starting from empty state')))
  } finally {
    dir.remove()
  }
})

test('only never-completed checkpoint directories: a fresh start, no error', async () => {
  const dir = tempDir('sluice-incomplete-')
  try {
    mkdirSync(join(dir.path, 'chk-1'))
    assert.is(await new DirectoryStorage(dir.path, { logger: silent }).latest(), undefined)
  } finally {
    dir.remove()
  }
})

test('latest() verifies each state file once: the restore reads the verified text, not the files again', async () => {
  const dir = tempDir('sluice-once-')
  try {
    const metadata = await checkpoint(new DirectoryStorage(dir.path, { logger: silent }), 4)
    const storage = new DirectoryStorage(dir.path, { logger: silent })
    assert.is((await storage.latest())?.id, 4)
    const handle = metadata.operators.gone!.subtasks[0]!
    rmSync(join(dir.path, handle.location)) // a second read of the file would fail now
    assert.equal(await storage.readState(handle), { split: ['position 4'] })
  } finally {
    dir.remove()
  }
})

test("a killed process's *.tmp files in a checkpoint directory that is written again are removed", async () => {
  const dir = tempDir('sluice-tmp-')
  try {
    mkdirSync(join(dir.path, 'chk-7'))
    const stale = join(dir.path, 'chk-7', 'gone-0.state.4242.tmp')
    writeFileSync(stale, 'half a state')
    await checkpoint(new DirectoryStorage(dir.path, { logger: silent }), 7)
    assert.not.ok(existsSync(stale))
    assert.ok(existsSync(join(dir.path, 'chk-7', '_metadata')))
  } finally {
    dir.remove()
  }
})

test('restoreFrom a directory that does not exist, or holds no savepoint, fails executeAsync and execute at once', async () => {
  const dir = tempDir('sluice-nosp-')
  try {
    const missing = join(dir.path, 'no-such-savepoint')
    const env = StreamEnvironment.create({ logLevel: 'silent', restoreFrom: missing })
    env.fromElements(1).sinkTo(new CallbackSink(() => {}))
    const thrown = errorOf(() => env.executeAsync('missing'))
    assert.is(thrown.code, 'ERR_SAVEPOINT_NOT_FOUND')
    assert.match(thrown.message, `restoreFrom ${missing}: no such directory`)
    assert.is((await rejection(env.execute('missing'))).code, 'ERR_SAVEPOINT_NOT_FOUND')
    assert.is((await rejection(env.fromElements(2).executeAndCollect())).code, 'ERR_SAVEPOINT_NOT_FOUND')

    const empty = StreamEnvironment.create({ logLevel: 'silent', restoreFrom: dir.path })
    empty.fromElements(1).sinkTo(new CallbackSink(() => {}))
    const notSavepoint = errorOf(() => empty.executeAsync('empty'))
    assert.is(notSavepoint.code, 'ERR_CHECKPOINT_INCOMPLETE')
    assert.match(notSavepoint.message, 'not a savepoint or a completed checkpoint')
  } finally {
    dir.remove()
  }
})

test('state no operator claims: ERR_STATE_UNCLAIMED names the savepoint path; allowNonRestoredState logs the dropped uids', async () => {
  const dir = tempDir('sluice-unclaimed-')
  try {
    const storage = new DirectoryStorage(dir.file('checkpoints'), { logger: silent })
    const metadata = await checkpoint(storage, 5, 'old-counter')
    const savepoint = await storage.saveSavepoint(metadata, dir.file('sp-1'))

    const strict = StreamEnvironment.create({ logLevel: 'silent', restoreFrom: savepoint })
    strict.fromElements(1).sinkTo(new CallbackSink(() => {}))
    assert.is(errorOf(() => strict.executeAsync('strict')).code, 'ERR_STATE_UNCLAIMED', 'executeAsync throws at once')
    const error = await rejection(strict.execute('strict'))
    assert.is(error.code, 'ERR_STATE_UNCLAIMED')
    assert.match(error.message, `savepoint ${savepoint} (checkpoint 5) has state of operator uid "old-counter"`)

    const { lines, logger } = capture()
    const lenient = StreamEnvironment.create({ logger, restoreFrom: savepoint, allowNonRestoredState: true })
    lenient.fromElements(1).sinkTo(new CallbackSink(() => {}))
    assert.is((await lenient.execute('lenient')).status, 'finished')
    const dropped = lines.find((l) => l.msg.startsWith('dropping state'))
    assert.ok(dropped, 'a line names what was dropped')
    assert.equal(dropped!.uids, ['old-counter'])
    assert.match(String(dropped!.from), savepoint)
  } finally {
    dir.remove()
  }
})

test('checkpoint stats: alignment rounded to microseconds; subsumed and abandoned checkpoints are not failures', async () => {
  const { lines, logger } = capture()
  const coordinator = new CheckpointCoordinator(
    'stats',
    [{ uid: 'op', parallelism: 1, maxParallelism: 128 }],
    ['0-0'],
    new MemoryStorage(),
    { minPauseMs: 0, tolerableFailures: 0 },
    logger,
  )
  const first = coordinator.trigger(false, Date.now(), true)!
  const second = coordinator.trigger(false, Date.now(), true)!
  await coordinator.acknowledge({
    checkpointId: second.id,
    subtaskKey: '0-0',
    states: { op: { subtask: 0, handle: null } },
    alignmentMs: 1.23456789,
  })
  const third = coordinator.trigger(false, Date.now(), true)!
  coordinator.abortAll('all input has ended and nothing waits for a final checkpoint', 'abandoned')
  const stats = new Map(coordinator.history.map((s) => [s.id, s]))
  assert.is(stats.get(second.id)!.alignmentMs, 1.235)
  assert.is(stats.get(first.id)!.status, 'subsumed')
  assert.is(stats.get(third.id)!.status, 'abandoned')
  assert.equal(
    lines.filter((l) => l.level === 'warn'),
    [],
    'neither is logged as a warning',
  )
})

test.run()
