import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { StreamEnvironment } from '../../lib/index.js'
import { createLogger } from '../../lib/logging.js'
import type { InputStatus, Source, SourceOutput, SourceReader } from '../../lib/runtime/source.js'

/** Hands out three numbers, then ends. */
class ThreeReader implements SourceReader<number> {
  private next = 0
  start(): void {}
  pollNext(output: SourceOutput<number>): InputStatus {
    if (this.next === 3) return 'end'
    output.collect(this.next++)
    return 'more'
  }
  isAvailable(): Promise<void> {
    return Promise.resolve()
  }
  snapshotState(): number[] {
    return [this.next]
  }
  close(): void {}
}

const acking = (acknowledgesOnCheckpoint: boolean): Source<number> => ({
  name: 'queue',
  bounded: true,
  acknowledgesOnCheckpoint,
  createReader: () => new ThreeReader(),
})

async function warningsOf(source: Source<number>, checkpointing: boolean): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({ level: 'warn', write: (line) => lines.push(JSON.parse(line)) })
  const env = StreamEnvironment.create({
    logger,
    ...(checkpointing ? { checkpointing: { intervalMs: 10 } } : {}),
  })
  env.fromSource(source, { uid: 'orders' }).sinkTo(new CallbackSink(() => {}))
  await env.execute()
  return lines.filter((l) => l.source === 'queue')
}

test('a source that acknowledges only on checkpoints, in a job without checkpointing, is named in a warning', async () => {
  const warnings = await warningsOf(acking(true), false)
  assert.is(warnings.length, 1)
  assert.is(warnings[0]!.level, 'warn')
  assert.match(String(warnings[0]!.msg), 'checkpointing is off')
  assert.is(warnings[0]!.uid, 'orders')
  assert.match(String(warnings[0]!.fix), "guarantee 'at-most-once'")
})

test('no warning with checkpointing on, nor for a source that does not acknowledge on checkpoints', async () => {
  assert.equal(await warningsOf(acking(true), true), [])
  assert.equal(await warningsOf(acking(false), false), [])
})

test.run()
