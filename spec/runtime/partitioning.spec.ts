import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import type { DataStream } from '../../lib/api/data-stream.js'
import type { Source, SourceOutput, SourceReader, SourceReaderContext } from '../../lib/runtime/source.js'
import { StreamOperator } from '../../lib/runtime/stream-operator.js'
import { SharedList } from '../support/shared-list.js'
import { settlesWithin } from '../support/wait-for.js'

const PER_SUBTASK = 300

/**
 * Subtask u emits u*PER_SUBTASK+1 … (u+1)*PER_SUBTASK with their value as timestamp and a watermark every
 * 50 records, then holds its end until a checkpoint taken after its last record is complete: every
 * run proves that barriers crossed the edge to every downstream subtask.
 */
class HeldSequence implements Source<number> {
  readonly name = 'held-sequence'
  readonly bounded = true
  createReader(context: SourceReaderContext): SourceReader<number> {
    return new HeldReader(context.subtask * PER_SUBTASK + 1, (context.subtask + 1) * PER_SUBTASK)
  }
}

class HeldReader implements SourceReader<number> {
  private holdFor: number | undefined
  private released = false
  private release!: () => void
  private readonly releasedPromise = new Promise<void>((resolve) => {
    this.release = resolve
  })
  constructor(
    private next: number,
    private readonly last: number,
  ) {}
  start(): void {}
  pollNext(output: SourceOutput<number>): 'more' | 'nothing-available' | 'end' {
    if (this.next <= this.last) {
      const n = this.next++
      output.collect(n, n)
      if (n % 50 === 0) output.emitWatermark(n)
      return 'more'
    }
    return this.released ? 'end' : 'nothing-available'
  }
  isAvailable(): Promise<void> {
    return this.released ? Promise.resolve() : this.releasedPromise
  }
  snapshotState(checkpointId: number): unknown[] {
    if (this.next > this.last && this.holdFor === undefined) this.holdFor = checkpointId
    return []
  }
  notifyCheckpointComplete(checkpointId: number): void {
    if (this.holdFor !== undefined && checkpointId >= this.holdFor && !this.released) {
      this.released = true
      this.release()
    }
  }
  close(): void {}
}

/** What each downstream subtask saw: records, the highest watermark below the end, completed checkpoints, end of input. */
interface Seen {
  records: number[]
  watermark: number
  checkpoints: number
  ended: boolean
}

/** One thing a downstream subtask saw: opened, a record, a watermark, a completed checkpoint, end of input. */
type Event = { s: number } & ({ k: 'open' | 'checkpoint' | 'end' } | { k: 'record' | 'watermark'; v: number })

/**
 * Records what its subtask sees into a list every thread of the test shares (`SharedList`): on the
 * worker executor the probe runs in a worker and the spec reads the list on the coordinator.
 */
class Probe extends StreamOperator<number, number> {
  constructor(private readonly events: SharedList<Event>) {
    super()
  }
  override open(): void {
    this.events.push({ s: this.subtask, k: 'open' })
  }
  processRecord(value: number, timestamp: number | undefined): void {
    this.events.push({ s: this.subtask, k: 'record', v: value })
    this.output.collect(value, timestamp)
  }
  override processWatermark(watermark: number): void {
    if (Number.isFinite(watermark) && watermark < Number.MAX_SAFE_INTEGER)
      this.events.push({ s: this.subtask, k: 'watermark', v: watermark })
    super.processWatermark(watermark)
  }
  override notifyCheckpointComplete(): void {
    this.events.push({ s: this.subtask, k: 'checkpoint' })
  }
  override endInput(): void {
    this.events.push({ s: this.subtask, k: 'end' })
  }
}

/** Each downstream subtask's view, from the probes' events. */
function seenFrom(events: readonly Event[]): Seen[] {
  const seen: Seen[] = []
  for (const e of events) {
    const mine = (seen[e.s] ??= { records: [], watermark: Number.NEGATIVE_INFINITY, checkpoints: 0, ended: false })
    if (e.k === 'record') mine.records.push(e.v)
    else if (e.k === 'watermark') mine.watermark = Math.max(mine.watermark, e.v)
    else if (e.k === 'checkpoint') mine.checkpoints++
    else if (e.k === 'end') mine.ended = true
  }
  return seen
}

async function run(
  partition: (s: DataStream<number>) => DataStream<number>,
  from: number,
  to: number,
): Promise<{ seen: Seen[]; out: number[] }> {
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 5 } })
  const events = new SharedList<Event>()
  const out = await settlesWithin(
    partition(env.fromSource(new HeldSequence(), { parallelism: from }))
      .transform('probe', () => new Probe(events), { parallelism: to })
      .executeAndCollect(),
    { timeoutMs: 10_000, description: `a bounded ${from} → ${to} job finished` },
  )
  const seen = seenFrom(events.values())
  assert.is(seen.length, to, 'every downstream subtask opened')
  seen.forEach((s, d) => {
    assert.ok(s.ended, `subtask ${d} got end of input`)
    assert.ok(s.checkpoints > 0, `subtask ${d} completed a checkpoint (barriers reached it)`)
    assert.ok(Number.isFinite(s.watermark), `subtask ${d} got a watermark`)
  })
  return { seen, out }
}

const all = (upstream: number): number[] => Array.from({ length: upstream * PER_SUBTASK }, (_, i) => i + 1)
const ascending = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)
const senderOf = (x: number): number => Math.floor((x - 1) / PER_SUBTASK)

for (const [from, to] of [
  [1, 3],
  [3, 2],
] as const) {
  test(`global ${from} → ${to}: every record reaches subtask 0; all subtasks end, see watermarks and complete checkpoints`, async () => {
    const { seen, out } = await run((s) => s.global(), from, to)
    assert.equal(ascending(seen[0]!.records), all(from))
    for (let d = 1; d < to; d++) assert.equal(seen[d]!.records, [], `subtask ${d} got no record`)
    assert.equal(ascending(out), all(from))
  })

  test(`broadcast ${from} → ${to}: every subtask gets every record once`, async () => {
    const { seen, out } = await run((s) => s.broadcast(), from, to)
    for (const s of seen) assert.equal(ascending(s.records), all(from))
    assert.is(out.length, all(from).length * to)
  })

  test(`rescale ${from} → ${to}: every record once, each within its sender's local group`, async () => {
    const { seen, out } = await run((s) => s.rescale(), from, to)
    // Flink's pointwise pattern: 1 → 3 spreads sender 0 over all three; 3 → 2 pairs {0, 1} → 0 and {2} → 1.
    const groups: number[][] = from === 1 ? [[0, 1, 2]] : [[0], [0], [1]]
    seen.forEach((s, d) => {
      assert.ok(s.records.length > 0, `subtask ${d} got records`)
      for (const x of s.records) assert.ok(groups[senderOf(x)]!.includes(d), `${x} from ${senderOf(x)} reached ${d}`)
    })
    assert.equal(ascending(out), all(from))
  })
}

test.run()
