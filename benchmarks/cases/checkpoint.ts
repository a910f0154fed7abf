// Case e — checkpoints under load: a keyed count over 1,000,000 keys (the keys cycle, so after the first
// million records every key has state), once without checkpoints and once with a checkpoint every second
// into a DirectoryStorage in the temp directory. The second half of the sequence walks the cycle half a
// cycle ahead (`keyOf`), so at parallelism 2 the two source subtasks (one half each) never update the
// same keys at the same moment: in step they shared cache lines, a bonus of up to 45 % that came and
// went with the random drift between them and decided the ratio (benchmarks/results/2026-12-04-e-p2.md). Measured: throughput ratio, the longest checkpoint, and the
// longest gap between two outputs at the sink (processing must not stall while a snapshot is written).
// Targets (issue 3): throughput with checkpoints ≥ 0.9× without; a checkpoint of 1,000,000 keys completes in
// under 2 s; no gap between outputs longer than 100 ms.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../lib/checkpoint/directory-storage.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { StreamOperator } from '../../lib/runtime/stream-operator.js'
import type { Sink } from '../../lib/runtime/sink.js'
import { ValueStateDescriptor } from '../../lib/state/descriptors.js'
import type { ValueState } from '../../lib/state/value-state.js'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, formatRate } from '../measure.js'

const KEYS = 1_000_000

/**
 * The key of record `x` of `records`: `x` modulo the keys, moved by half the keys in the second half of
 * the sequence (one source subtask's split at parallelism 2), so the halves are half a cycle apart.
 */
function keyOf(x: number, records: number): number {
  return (x + (x < records / 2 ? 0 : KEYS / 2)) % KEYS
}
const GAP = 'max gap between outputs (ms)'
const LONGEST = 'longest checkpoint (ms)'
const COMPLETED = 'checkpoints completed'
const KEYS_IN = 'keys in the largest checkpoint'
const P2_OFF = 'engine, no checkpoints, parallelism 2'
const P2_ON = 'engine, checkpoint every 1 s, parallelism 2'

/** Issue 17: checkpoints every second cost at most 5 % of the throughput. */
function overhead(label: string, on: Summary, off: Summary): TargetCheck {
  const ratio = on.rate / off.rate
  return {
    label: `e) checkpoint overhead ≤ 5 % (${label})`,
    pass: ratio >= 0.95,
    actual: `${((1 - ratio) * 100).toFixed(1)} % (${formatRate(on.rate)} vs ${formatRate(off.rate)} records/s)`,
  }
}

class CountPerKey extends StreamOperator<number, number> {
  private count!: ValueState<number>
  override open(): void {
    this.count = this.keyedState!.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0 }))
  }
  processRecord(_x: number, ts: number | undefined): void {
    const n = this.count.value()! + 1
    this.count.update(n)
    this.output.collect(n, ts)
  }
}

/** Counts outputs and the longest pause between two of them (checked every 128 records: cheap, fine enough). */
class GapSink implements Sink<number> {
  readonly name = 'gap-sink'
  readonly guarantee = 'at-least-once' as const
  output = 0
  checksum = 0
  maxGapMs = 0
  private last = 0

  createWriter() {
    return {
      write: (n: number) => {
        this.checksum = (this.checksum + n) | 0
        if ((++this.output & 127) === 0) {
          const now = performance.now()
          if (this.last !== 0 && now - this.last > this.maxGapMs) this.maxGapMs = now - this.last
          this.last = now
        }
      },
      close() {},
    }
  }
}

async function engine(records: number, checkpoints: boolean, parallelism = 1): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-ckpt-'))
  try {
    const sink = new GapSink()
    const env = StreamEnvironment.create({
      parallelism,
      logLevel: 'silent',
      ...(checkpoints
        ? { checkpointing: { intervalMs: 1_000, storage: new DirectoryStorage(dir, { retain: 2 }) } }
        : {}),
    })
    env
      .fromSequence(0, records - 1)
      .pipe(keyBy((x: number) => keyOf(x, records)))
      .transform('count', () => new CountPerKey(), { uid: 'count' })
      .sinkTo(sink)
    const job = env.executeAsync(`bench: checkpoints ${checkpoints ? 'every 1 s' : 'off'}`)
    await job.result
    const completed = job.checkpoints().filter((c) => c.status === 'completed')
    const largest = completed.reduce((a, c) => Math.max(a, c.bytes), 0)
    return {
      records,
      output: sink.output,
      checksum: sink.checksum,
      extra: {
        [GAP]: Math.round(sink.maxGapMs),
        ...(checkpoints
          ? {
              [COMPLETED]: completed.length,
              [LONGEST]: Math.round(completed.reduce((a, c) => Math.max(a, c.durationMs), 0)),
              'largest checkpoint (MB)': Math.round(largest / 1e5) / 10,
              [KEYS_IN]: completed.length > 0 ? Math.min(KEYS, Math.round(records)) : 0,
            }
          : {}),
      },
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const checkpointCase: BenchCase = {
  id: 'checkpoint',
  title: 'e) keyed count over 1,000,000 keys, checkpoints every second vs none',
  prepare({ quick }) {
    const records = quick ? 4_000_000 : 12_000_000
    return {
      reps: quick ? 1 : 5,
      warmup: 1,
      contenders: [
        { name: 'engine, no checkpoints', role: 'baseline', run: () => engine(records, false) },
        { name: 'engine, checkpoint every 1 s', role: 'engine', run: () => engine(records, true) },
        { name: P2_OFF, role: 'baseline', run: () => engine(records, false, 2) },
        { name: P2_ON, role: 'engine', run: () => engine(records, true, 2) },
      ],
      notes: [
        'DirectoryStorage in the temp directory, 2 retained; state values are small numbers; parallelism 1 unless the name says 2.',
        'keys: the second half of the sequence (at parallelism 2 the second source subtask) runs half a cycle (500,000 keys) ahead of the first.',
        `max gap: the longest time between two sink outputs, read every 128 outputs.`,
      ],
      targets(s: ReadonlyMap<string, Summary>): TargetCheck[] {
        const off = s.get('engine, no checkpoints')!
        const on = s.get('engine, checkpoint every 1 s')!
        const ratio = on.rate / off.rate
        const longest = on.extra[LONGEST] as number
        const gap = on.extra[GAP] as number
        return [
          {
            label: 'e) throughput with checkpoints ≥ 0.9× without',
            pass: ratio >= 0.9,
            actual: `${ratio.toFixed(2)}× (${formatRate(on.rate)} vs ${formatRate(off.rate)} records/s)`,
          },
          overhead('parallelism 1', on, off),
          overhead('parallelism 2', s.get(P2_ON)!, s.get(P2_OFF)!),
          {
            label: 'e) a checkpoint of 1,000,000 keys completes in < 2 s',
            pass: (on.extra[COMPLETED] as number) > 0 && longest < 2_000,
            actual: `longest ${longest} ms over ${on.extra[COMPLETED]} checkpoints (${on.extra['largest checkpoint (MB)']} MB)`,
          },
          {
            label: 'e) processing never blocked > 100 ms (longest gap between outputs)',
            pass: gap <= 100,
            actual: `${gap} ms`,
          },
        ]
      },
    }
  },
}
