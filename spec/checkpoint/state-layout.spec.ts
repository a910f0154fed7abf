import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { CheckpointStorage } from '../../lib/checkpoint/checkpoint-storage.js'
import type { OperatorSubtaskState } from '../../lib/checkpoint/checkpoint-types.js'
import { DirectoryStorage } from '../../lib/checkpoint/directory-storage.js'
import { MemoryStorage } from '../../lib/checkpoint/memory-storage.js'
import { decodeStateFile, encodeStateFile } from '../../lib/checkpoint/state-file.js'
import { StateError } from '../../lib/errors.js'
import { ValueStateDescriptor } from '../../lib/state/descriptors.js'
import { KeyGroupRange, keyGroupOf } from '../../lib/state/key-groups.js'
import { type KeyedStateSnapshot, KeyedSnapshotWriter, restoreKeyedState } from '../../lib/state/keyed-snapshot.js'
import { KeyedStateBackend } from '../../lib/state/keyed-state-backend.js'
import {
  FIXTURE_CLOCK,
  fillLayoutFixture,
  fixtureEntries,
  fixtureTimerService,
  fixtureTimers,
  heldState,
} from '../support/layout-fixture.js'
import { tempDir } from '../support/temp-dir.js'

/** A checkpoint written by sluice before the binary layout (commit 5808b3d): JSON state files. */
const JSON_LAYOUT_CHECKPOINT = fileURLToPath(new URL('./fixtures/json-layout/chk-1', import.meta.url))

/** The layout fixture as sluice wrote it in binary layout 2, before int32 columns (commit ac7c7ed). */
const BINARY_LAYOUT_2_FILE = fileURLToPath(new URL('./fixtures/binary-layout-2/op-0.state', import.meta.url))

/** Restores `snapshots` at `parallelism` and gathers what all subtasks hold, sorted for comparison. */
function restoreAt(parallelism: number, snapshots: readonly KeyedStateSnapshot[]) {
  const entries: Record<string, Array<[unknown, unknown]>> = {}
  const event: Array<[number, unknown]> = []
  const processing: Array<[number, unknown]> = []
  for (let subtask = 0; subtask < parallelism; subtask++) {
    const backend = new KeyedStateBackend(KeyGroupRange.forSubtask(128, parallelism, subtask), () => FIXTURE_CLOCK)
    const timers = fixtureTimerService(backend)
    restoreKeyedState(backend, timers, snapshots)
    const held = heldState(backend, timers)
    for (const [name, list] of Object.entries(held.entries)) (entries[name] ??= []).push(...list)
    event.push(...held.timers.event)
    processing.push(...held.timers.processing)
    // every timer and entry restored to the subtask that owns its key group
    for (const [, key] of [...held.timers.event, ...held.timers.processing])
      assert.ok(backend.range.contains(keyGroupOf(key, 128)), `timer of ${String(key)} on subtask ${subtask}`)
  }
  return { entries: sorted(entries), timers: { event: sortPairs(event), processing: sortPairs(processing) } }
}

function expected() {
  const timers = fixtureTimers()
  return {
    entries: sorted(fixtureEntries()),
    timers: { event: sortPairs(timers.event), processing: sortPairs(timers.processing) },
  }
}

function sorted(entries: Record<string, Array<[unknown, unknown]>>): Record<string, Array<[unknown, unknown]>> {
  return Object.fromEntries(Object.entries(entries).map(([name, list]) => [name, sortPairs(list)]))
}

function sortPairs<T extends [unknown, unknown]>(list: T[]): T[] {
  const text = (pair: T) => `${String(pair[0])}|${String(pair[1])}`
  return [...list].sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0))
}

/** The fixture's state snapshotted by today's code. */
function freshSnapshot(): KeyedStateSnapshot {
  const backend = new KeyedStateBackend(new KeyGroupRange(0, 127), () => FIXTURE_CLOCK)
  const timers = fixtureTimerService(backend)
  fillLayoutFixture(backend, timers)
  const writer = new KeyedSnapshotWriter(backend, timers)
  while (!writer.step(1000));
  return writer.result()
}

async function storeAndRead(storage: CheckpointStorage, state: OperatorSubtaskState): Promise<OperatorSubtaskState> {
  return storage.readState(await storage.writeState(1, 'op', 0, state))
}

test('a checkpoint written in the JSON layout (1) restores, at parallelism 1 and rescaled to 2 and 3', async () => {
  const { metadata, read } = await DirectoryStorage.openSavepoint(JSON_LAYOUT_CHECKPOINT)
  const state = await read(metadata.operators.fixture!.subtasks[0]!)
  assert.is(state.keyed?.format, 1)
  assert.equal(state.split, ['position 7'])
  for (const parallelism of [1, 2, 3])
    assert.equal(restoreAt(parallelism, [state.keyed!]), expected(), `p${parallelism}`)
})

test('a savepoint of a JSON-layout checkpoint is written in the binary layout and restores the same', async () => {
  const dir = tempDir('sluice-layout-')
  try {
    const { metadata, read } = await DirectoryStorage.openSavepoint(JSON_LAYOUT_CHECKPOINT)
    await DirectoryStorage.exportSavepoint(metadata, dir.path, read)
    const file = readFileSync(dir.file('fixture-0.state'))
    assert.is(file.subarray(0, 4).toString('latin1'), 'SLST')
    const savepoint = await DirectoryStorage.openSavepoint(dir.path)
    const state = await savepoint.read(savepoint.metadata.operators.fixture!.subtasks[0]!)
    assert.equal(state.split, ['position 7'])
    assert.equal(restoreAt(2, [state.keyed!]), expected())
  } finally {
    dir.remove()
  }
})

test('a snapshot in the binary layout restores the same through MemoryStorage and DirectoryStorage, rescaled', async () => {
  const dir = tempDir('sluice-layout-')
  try {
    for (const storage of [new MemoryStorage(), new DirectoryStorage(dir.path)]) {
      const state = await storeAndRead(storage, { keyed: freshSnapshot(), split: ['position 7'] })
      assert.is(state.keyed?.format, 3, storage.description)
      assert.equal(state.split, ['position 7'])
      for (const parallelism of [1, 2, 3])
        assert.equal(restoreAt(parallelism, [state.keyed!]), expected(), `${storage.description} p${parallelism}`)
    }
  } finally {
    dir.remove()
  }
})

test('a large state is hashed off the event loop: the recorded checksum is the SHA-256 of the file', async () => {
  const dir = tempDir('sluice-layout-')
  try {
    const backend = new KeyedStateBackend(new KeyGroupRange(0, 127), () => 0)
    const count = backend.getState(new ValueStateDescriptor<number>('count'))
    for (let k = 0; k < 200_000; k++) {
      backend.keyContext.set(k, keyGroupOf(k, 128))
      count.update(k * 3)
    }
    const writer = new KeyedSnapshotWriter(backend, undefined)
    while (!writer.step(1000));
    const storage = new DirectoryStorage(dir.path)
    const handle = await storage.writeState(1, 'op', 0, { keyed: writer.result() })
    const file = readFileSync(join(dir.path, handle.location))
    // 200,000 int32 keys and values: above the 1 MiB hashed at once on the event loop
    assert.ok(handle.bytes > 1_600_000, `${handle.bytes} bytes`)
    assert.is(handle.bytes, file.length)
    assert.is(handle.checksum, createHash('sha256').update(file).digest('hex'))
    writer.recycle()
    // the next snapshot writes into the recycled buffer; the stored file still reads back whole
    const restored = new KeyedStateBackend(new KeyGroupRange(0, 127), () => 0)
    restoreKeyedState(restored, undefined, [(await storage.readState(handle)).keyed!])
    const rCount = restored.getState(new ValueStateDescriptor<number>('count'))
    for (const k of [0, 1, 99_999, 199_999]) {
      restored.keyContext.set(k, keyGroupOf(k, 128))
      assert.is(rCount.value(), k * 3)
    }
  } finally {
    dir.remove()
  }
})

test('a snapshot buffer recycled for the next snapshot leaves a MemoryStorage checkpoint intact', async () => {
  const backend = new KeyedStateBackend(new KeyGroupRange(0, 127), () => 0)
  const count = backend.getState(new ValueStateDescriptor<number>('count'))
  const storage = new MemoryStorage()
  const handles = []
  for (const value of [1, 2]) {
    for (let k = 0; k < 1000; k++) {
      backend.keyContext.set(k, keyGroupOf(k, 128))
      count.update(value)
    }
    const writer = new KeyedSnapshotWriter(backend, undefined)
    while (!writer.step(1000));
    handles.push(await storage.writeState(value, 'op', 0, { keyed: writer.result() }))
    writer.recycle()
  }
  for (const [i, handle] of handles.entries()) {
    const restored = new KeyedStateBackend(new KeyGroupRange(0, 127), () => 0)
    restoreKeyedState(restored, undefined, [(await storage.readState(handle)).keyed!])
    const rCount = restored.getState(new ValueStateDescriptor<number>('count'))
    restored.keyContext.set(500, keyGroupOf(500, 128))
    assert.is(rCount.value(), i + 1, `checkpoint ${i + 1}`)
  }
})

test('a state file of binary layout 2 (float64 columns only) restores, rescaled; today the same state is smaller', () => {
  const file = readFileSync(BINARY_LAYOUT_2_FILE)
  assert.is(file.readUInt32LE(4), 2)
  const keyed = decodeStateFile(file, 'binary-layout-2/op-0.state').keyed!
  assert.is(keyed.format, 2)
  for (const parallelism of [1, 3])
    assert.equal(restoreAt(parallelism, [keyed]), expected(), `parallelism ${parallelism}`)
  // today's writer stores the fixture's int32 columns in half the bytes, in layout 3
  const fresh = encodeStateFile({ keyed: freshSnapshot() })
  assert.is(fresh.head.readUInt32LE(4), 3)
  assert.ok(fresh.bytes < file.length, `${fresh.bytes} bytes today, ${file.length} in layout 2`)
})

test('a keyed snapshot in an unknown layout version fails with ERR_SERIALIZER_VERSION naming its states and version', () => {
  const snapshot = {
    format: 4,
    states: { count: { kind: 'value', serializer: 'json', version: 1, ttl: false } },
    groups: {},
  } as unknown as KeyedStateSnapshot
  const backend = new KeyedStateBackend(new KeyGroupRange(0, 127), () => 0)
  try {
    restoreKeyedState(backend, undefined, [snapshot])
    assert.unreachable('restored a snapshot of layout 4')
  } catch (error) {
    assert.instance(error, StateError)
    assert.is((error as StateError).code, 'ERR_SERIALIZER_VERSION')
    assert.match((error as Error).message, /keyed state count was written in snapshot layout version 4/)
  }
})

test('a state file in an unknown layout version fails with ERR_SERIALIZER_VERSION naming the file and version', () => {
  const { head } = encodeStateFile({ split: ['x'] })
  head.writeUInt32LE(9, 4)
  try {
    decodeStateFile(head, 'chk-4/op-0.state')
    assert.unreachable('decoded a state file of layout 9')
  } catch (error) {
    assert.is((error as StateError).code, 'ERR_SERIALIZER_VERSION')
    assert.match((error as Error).message, /state file chk-4\/op-0.state is in state layout version 9/)
  }
})

test.run()
