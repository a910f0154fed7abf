// The job of benchmark case e (checkpoint), run in a fresh child process per measured run, so that no
// run inherits what another contender's jobs left in the process: at parallelism 2 a job without
// checkpoints that ran after a checkpointing job in the same process stayed 30-40 % slower
// (benchmarks/results/2026-12-05-e-p2-pollution.md), and the case, interleaving its contenders in one
// process, compared checkpoints against a slowed baseline.
// CK_RECORDS, CK_PARALLELISM, CK_CHECKPOINTS (1 or 0), CK_WARMUP_RECORDS (an untimed run of the same job
// first, so that the timed run meets optimized code, as a long-running job would; 0: none).
// Prints one JSON line, a {@link CheckpointJobRun}: the timed run's counts, its own wall and CPU time (job
// set-up included, process start-up and warm-up not).
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
import { collectGarbage, hotPhase } from '../measure.js'
import type { CheckpointJobRun } from './checkpoint-job-run.js'
import { envWholeNumber } from '../env-number.js'

const KEYS = 1_000_000

/**
 * The key of record `x` of `records`: `x` modulo the keys, moved by half the keys in the second half of
 * the sequence (one source subtask's split at parallelism 2), so the halves are half a cycle apart.
 */
function keyOf(x: number, records: number): number {
  return (x + (x < records / 2 ? 0 : KEYS / 2)) % KEYS
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

/** The keyed count over `records` records, with a checkpoint every second into a DirectoryStorage or none. */
async function countPerKey(
  records: number,
  checkpoints: boolean,
  parallelism: number,
): Promise<Omit<CheckpointJobRun, 'ms' | 'cpuMs'>> {
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
      maxGapMs: sink.maxGapMs,
      completed: completed.length,
      longestMs: completed.reduce((a, c) => Math.max(a, c.durationMs), 0),
      largestBytes: largest,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const records = envWholeNumber('CK_RECORDS', 4_000_000)
const parallelism = envWholeNumber('CK_PARALLELISM', 1)
const checkpoints = process.env.CK_CHECKPOINTS === '1'
const warmupRecords = envWholeNumber('CK_WARMUP_RECORDS', 0)
if (warmupRecords > 0) await countPerKey(warmupRecords, checkpoints, parallelism)
collectGarbage()
const phase = hotPhase()
const result = await countPerKey(records, checkpoints, parallelism)
const run: CheckpointJobRun = { ...result, ...phase.end() }
process.stdout.write(`${JSON.stringify(run)}\n`)
