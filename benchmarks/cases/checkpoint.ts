// Case e — checkpoints under load: a keyed count over 1,000,000 keys (the keys cycle, so after the first
// million records every key has state), once without checkpoints and once with a checkpoint every second
// into a DirectoryStorage in the temp directory. The second half of the sequence walks the cycle half a
// cycle ahead (`keyOf`), so at parallelism 2 the two source subtasks (one half each) never update the
// same keys at the same moment: in step they shared cache lines, a bonus of up to 45 % that came and
// went with the random drift between them and decided the ratio (benchmarks/results/2026-12-04-e-p2.md).
// Every run is a child process (`checkpoint-job.ts`) that warms up on the same job first: in one process a
// job without checkpoints ran 30-40 % slower at parallelism 2 after a checkpointing job
// (benchmarks/results/2026-12-05-e-p2-pollution.md), so interleaved contenders slowed the baseline.
// Measured: throughput ratio, the longest checkpoint, and the longest gap between two outputs at the sink
// (processing must not stall while a snapshot is written).
// Targets (issue 3): throughput with checkpoints ≥ 0.9× without; a checkpoint of 1,000,000 keys completes in
// under 2 s; no gap between outputs longer than 100 ms.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { type BenchCase, type RunResult, type Summary, type TargetCheck, formatRate } from '../measure.js'
import type { CheckpointJobRun } from './checkpoint-job-run.js'

const KEYS = 1_000_000
const JOB = join(import.meta.dirname, 'checkpoint-job.ts')
const execFileAsync = promisify(execFile)
/** The harness's own Node flags (a profiler's too), with the TypeScript loader the job file needs. */
const CHILD_FLAGS = process.execArgv.some((flag) => flag.includes('tsx'))
  ? process.execArgv
  : [...process.execArgv, '--import', 'tsx']
/** The warm-up run in each child: long enough for a few checkpoints and for the hot paths to be optimized. */
const WARMUP_RECORDS = 3_000_000

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

/**
 * One run in a fresh child process (`checkpoint-job.ts`), after an untimed warm-up run of the same job
 * there: no run meets code or heap another contender's jobs shaped.
 */
async function engine(records: number, checkpoints: boolean, parallelism = 1): Promise<RunResult> {
  const { stdout } = await execFileAsync(process.execPath, [...CHILD_FLAGS, JOB], {
    env: {
      ...process.env,
      CK_RECORDS: String(records),
      CK_PARALLELISM: String(parallelism),
      CK_CHECKPOINTS: checkpoints ? '1' : '0',
      CK_WARMUP_RECORDS: String(Math.min(records, WARMUP_RECORDS)),
    },
    timeout: 600_000,
  })
  const run = JSON.parse(stdout.trim().split('\n').pop()!) as CheckpointJobRun
  return {
    records: run.records,
    output: run.output,
    checksum: run.checksum,
    ms: run.ms,
    cpuMs: run.cpuMs,
    extra: {
      [GAP]: Math.round(run.maxGapMs),
      ...(checkpoints
        ? {
            [COMPLETED]: run.completed,
            [LONGEST]: Math.round(run.longestMs),
            'largest checkpoint (MB)': Math.round(run.largestBytes / 1e5) / 10,
            [KEYS_IN]: run.completed > 0 ? Math.min(KEYS, records) : 0,
          }
        : {}),
    },
  }
}

export const checkpointCase: BenchCase = {
  id: 'checkpoint',
  title: 'e) keyed count over 1,000,000 keys, checkpoints every second vs none',
  prepare({ quick }) {
    // at about 8 M records/s a run of 36,000,000 takes 4-5 s: four or five checkpoints of the million keys
    const records = quick ? 12_000_000 : 36_000_000
    return {
      reps: quick ? 1 : 5,
      // every run warms up in its own process
      warmup: 0,
      contenders: [
        { name: 'engine, no checkpoints', role: 'baseline', run: () => engine(records, false) },
        { name: 'engine, checkpoint every 1 s', role: 'engine', run: () => engine(records, true) },
        { name: P2_OFF, role: 'baseline', run: () => engine(records, false, 2) },
        { name: P2_ON, role: 'engine', run: () => engine(records, true, 2) },
      ],
      notes: [
        'every run is a fresh child process that runs the same job once untimed (3,000,000 records) before the timed run: no contender runs after another in one process.',
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
