import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { range } from 'rxjs'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { createLogger } from '../../../lib/logging.js'

const EMITTED = 100_000
const BUFFER = 1_000

async function flood(overflow: 'drop-newest' | 'drop-oldest') {
  const lines: Array<{ msg: string; droppedRecords?: number; overflow?: string }> = []
  const env = StreamEnvironment.create({
    logger: createLogger({ level: 'warn', write: (line) => lines.push(JSON.parse(line)) }),
  })
  const out: number[] = []
  env
    // emits everything synchronously on subscribe, far ahead of any demand
    .fromObservable(range(1, EMITTED), { bufferSize: BUFFER, overflow })
    .sinkTo(new CallbackSink<number>((v) => out.push(v)))
  const result = await env.execute('observable flood')
  const dropped = result.metrics.details.find((d) => d.metrics.droppedRecords !== undefined)
  return { out, lines: lines.filter((l) => l.msg.includes('dropped')), dropped }
}

for (const overflow of ['drop-newest', 'drop-oldest'] as const) {
  test(`fromObservable ${overflow}: dropped records are counted in the job's metrics and logged with the count, rate-limited`, async () => {
    const { out, lines, dropped } = await flood(overflow)
    assert.is(out.length, BUFFER)
    assert.equal(out[0], overflow === 'drop-newest' ? 1 : EMITTED - BUFFER + 1)
    assert.is(dropped?.metrics.droppedRecords, EMITTED - BUFFER, 'the count in job.metrics().details')
    assert.ok(lines.length >= 1 && lines.length <= 2, `one line at the first drop, one at close: ${lines.length}`)
    assert.is(lines.at(-1)!.droppedRecords, EMITTED - BUFFER)
    assert.is(lines.at(-1)!.overflow, overflow)
    const counted = lines.reduce((n, l) => n + Number(/dropped (\d+) record/.exec(l.msg)![1]), 0)
    assert.is(counted, EMITTED - BUFFER, 'the lines add up to every dropped record')
  })
}

test.run()
