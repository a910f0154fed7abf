// Case compaction-local — the bucketing file sink with compaction on the local disk, against node:fs
// doing the same file work alone.
// engine: a sink writer (driven directly, as the runtime drives it: records, barrier, completion notice)
// takes n records of 100 bytes over C checkpoints with compaction { checkpoints: C }: C parts are
// written, fsynced and held hidden; the C-th pre-commit reads them back, writes one merged file
// (fsynced), the commit renames it and deletes the sources.
// baseline: node:fs writes the same lines as C hidden files (writes of 64 KiB, fsync, close), then reads
// them back, writes one merged file (fsync), renames it and deletes the C files.
// Each timed from the start to the merged file being visible; extra.cpuMs is the process CPU time
// (user + system) of the run, for a CPU-time ratio under load.
import { open, readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { basePathBucketAssigner, bucketingFileSink } from '../../lib/connectors/bucketing-file-sink/index.js'
import { createLogger } from '../../lib/logging.js'
import { systemProcessingTime } from '../../lib/time/processing-time.js'
import { tempDir } from '../../spec/support/temp-dir.js'
import { type BenchCase, type RunResult, hotPhase, type PhaseTime } from '../measure.js'

const CHECKPOINTS = 20
const silent = createLogger({ level: 'silent' })

/** Record i as a 100-byte line. */
const line = (i: number) => `${String(i).padStart(12, '0')}${'r'.repeat(87)}\n`

/** The run's result: its time and CPU time, and the merged file checked for all the bytes. */
async function result(n: number, directory: string, time: PhaseTime): Promise<RunResult> {
  const handle = await open(join(directory, `part-0-${CHECKPOINTS}`), 'r')
  const { size } = await handle.stat()
  await handle.close()
  return { records: n, output: size === n * 100 ? n : 0, checksum: size, ...time, extra: { cpuMs: time.cpuMs } }
}

async function engine(n: number): Promise<RunResult> {
  const dir = tempDir('sluice-bench-compaction-')
  try {
    const phase = hotPhase()
    const writer = bucketingFileSink<number>(dir.path, {
      encoder: { name: 'lines', bulk: false, encode: line },
      bucketAssigner: basePathBucketAssigner(),
      compaction: { checkpoints: CHECKPOINTS },
      logger: silent,
    }).createWriter({ subtask: 0, parallelism: 1, processingTime: systemProcessingTime })
    await writer.ready?.()
    const per = Math.ceil(n / CHECKPOINTS)
    for (let c = 1; c <= CHECKPOINTS; c++) {
      for (let i = (c - 1) * per + 1; i <= Math.min(n, c * per); i++) {
        writer.write(i, undefined)
        if (i % 4096 === 0) await writer.ready?.()
      }
      await writer.snapshotState!(c)
      await writer.notifyCheckpointComplete!(c)
    }
    await writer.close()
    return await result(n, dir.path, phase.end())
  } finally {
    dir.remove()
  }
}

async function writeFile(path: string, from: number, to: number): Promise<void> {
  const handle = await open(path, 'wx')
  let chunk: string[] = []
  let bytes = 0
  for (let i = from; i <= to; i++) {
    chunk.push(line(i))
    bytes += 100
    if (bytes >= 64 * 1024) {
      await handle.write(Buffer.from(chunk.join('')))
      chunk = []
      bytes = 0
    }
  }
  if (bytes > 0) await handle.write(Buffer.from(chunk.join('')))
  await handle.sync()
  await handle.close()
}

async function raw(n: number): Promise<RunResult> {
  const dir = tempDir('sluice-bench-compaction-fs-')
  try {
    const phase = hotPhase()
    const per = Math.ceil(n / CHECKPOINTS)
    const sources: string[] = []
    for (let c = 1; c <= CHECKPOINTS; c++) {
      const path = join(dir.path, `.part-0-${c - 1}.inprogress`)
      await writeFile(path, (c - 1) * per + 1, Math.min(n, c * per))
      sources.push(path)
    }
    const hidden = join(dir.path, `.part-0-${CHECKPOINTS}.inprogress`)
    const merged = await open(hidden, 'wx')
    for (const source of sources) await merged.write(await readFile(source))
    await merged.sync()
    await merged.close()
    await rename(hidden, join(dir.path, `part-0-${CHECKPOINTS}`))
    for (const source of sources) await rm(source)
    return await result(n, dir.path, phase.end())
  } finally {
    await rm(dir.path, { recursive: true, force: true })
  }
}

export const compactionCase: BenchCase = {
  id: 'compaction-local',
  title: 'Bucketing file sink with compaction on the local disk vs node:fs doing the same file work',
  prepare({ quick }) {
    const n = quick ? 200_000 : 1_000_000
    return {
      reps: 3,
      warmup: 1,
      contenders: [
        {
          name: 'engine: bucketingFileSink writer, compaction every 20 checkpoints',
          role: 'engine',
          run: () => engine(n),
        },
        { name: 'node:fs: 20 files fsynced, read back, merged, fsynced, renamed', role: 'baseline', run: () => raw(n) },
      ],
      notes: [
        `${n.toLocaleString('en')} records of 100 bytes (${(n / 10_000).toFixed(0)} MB) over ${CHECKPOINTS} checkpoints into one merged file; extra.cpuMs: process CPU time of the run.`,
      ],
    }
  },
}
