import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { FileSystemRecoverableWriter, LocalFileSystem } from '../../../lib/connectors/bucketing-file-sink/index.js'
import { createLogger } from '../../../lib/logging.js'
import { tempDir, type TempDir } from '../../support/temp-dir.js'
import { localDiskWith } from './support.js'

const silent = createLogger({ level: 'silent' })
const ref = { bucket: 'b', name: 'part-0-0', inProgress: '.part-0-0.inprogress.00000000-0000-0000-0000-000000000000' }

let dir: TempDir
test.before.each(() => {
  dir = tempDir('sluice-recoverable-')
})
test.after.each(() => dir.remove())

test('rename-based writer: persist keeps the valid length; recover truncates back to it and appends', async () => {
  const writer = new FileSystemRecoverableWriter(new LocalFileSystem())
  const first = await writer.open(dir.path, ref)
  await first.write(Buffer.from('kept\n'))
  const resumable = await first.persist()
  assert.equal(resumable.recoverable, { validLength: 5 })
  await first.write(Buffer.from('written after the checkpoint\n'))
  await first.dispose()
  const second = await writer.recover(dir.path, resumable)
  await second.write(Buffer.from('resumed\n'))
  const committable = await second.closeForCommit()
  assert.is(await writer.commitAfterRecovery(dir.path, [committable], silent), 'committed')
  assert.equal(readdirSync(join(dir.path, 'b')), ['part-0-0'])
  assert.is(readFileSync(join(dir.path, 'b', 'part-0-0'), 'utf8'), 'kept\nresumed\n')
  assert.is(await writer.commitAfterRecovery(dir.path, [committable], silent), 'already-committed')
})

test('rename-based writer: a store without truncate cannot resume a part (ERR_RECOVERY), and says so', async () => {
  const noTruncate = localDiskWith('no-truncate')
  const writer = new FileSystemRecoverableWriter(noTruncate)
  const stream = await writer.open(dir.path, ref)
  await stream.write(Buffer.from('x'))
  const resumable = await stream.persist()
  await stream.dispose()
  try {
    await writer.recover(dir.path, resumable)
    assert.unreachable('refused')
  } catch (error) {
    assert.is((error as { code?: string }).code, 'ERR_RECOVERY')
    assert.match((error as Error).message, /no-truncate.*cannot truncate/)
  }
  await writer.discard(dir.path, [resumable])
  assert.equal(readdirSync(join(dir.path, 'b')), [], 'discard deleted the hidden file')
})

test.run()
