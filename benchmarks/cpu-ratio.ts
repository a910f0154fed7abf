// CPU time per record of a case's contenders: the CPU of the hot phase a contender times itself (its
// RunResult.cpuMs, see hotPhase), else process.cpuUsage around the whole run (user + system time of the
// whole process, so the client or sender in the same process counts for both): on a
// loaded shared machine the wall-clock rate says more about the neighbours than about the code.
//   node --expose-gc --import tsx benchmarks/cpu-ratio.ts <case id> [--runs 7] [--quick]
// Prints, per contender, the median CPU µs per record over the runs (after one warm-up run each), and the
// engine ÷ baseline CPU ratio (below 1 / 0.8 = 1.25 meets a 0.8× throughput target in CPU terms).
import os from 'node:os'
import { parseArgs } from 'node:util'
import { actorSourceCase } from './cases/actor-source.js'
import { httpServerSourceCase, tcpServerSourceCase } from './cases/ingest.js'
import { type BenchCase, hotPhase } from './measure.js'

const CASES: readonly BenchCase[] = [actorSourceCase, tcpServerSourceCase, httpServerSourceCase]
const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '7' }, quick: { type: 'boolean', default: false } },
})
const bench = CASES.find((c) => c.id === positionals[0])
if (bench === undefined)
  throw new Error(`usage: cpu-ratio.ts <${CASES.map((c) => c.id).join('|')}> [--runs N] [--quick]`)
const prepared = await bench.prepare({ records: 0, quick: args.quick })
const gc = (globalThis as { gc?: () => void }).gc
const perRecord = new Map<string, number[]>()
const runs = Number(args.runs)
for (let r = -1; r < runs; r++)
  for (const contender of prepared.contenders) {
    gc?.()
    const phase = hotPhase()
    const result = await contender.run()
    const whole = phase.end()
    if (r < 0) continue
    const list = perRecord.get(contender.name) ?? []
    // a contender that times its own hot phase reports that phase's CPU (µs per record here)
    list.push(((result.cpuMs ?? whole.cpuMs) * 1000) / result.records)
    perRecord.set(contender.name, list)
  }
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const load = os
  .loadavg()
  .map((l) => l.toFixed(1))
  .join(' ')
console.log(`${bench.id}: ${runs} runs, load average ${load} on ${os.cpus().length} cores`)
for (const c of prepared.contenders) {
  const xs = perRecord.get(c.name)!
  console.log(
    `  ${c.name} (${c.role}): ${median(xs).toFixed(3)} µs CPU per record (runs ${xs.map((x) => x.toFixed(2)).join(' ')})`,
  )
}
const engine = prepared.contenders.find((c) => c.role === 'engine')!
const baseline = prepared.contenders.find((c) => c.role === 'baseline')!
const ratio = median(perRecord.get(engine.name)!) / median(perRecord.get(baseline.name)!)
console.log(
  `  engine ÷ baseline CPU per record: ${ratio.toFixed(2)} (throughput-equivalent ${(1 / ratio).toFixed(2)}×)`,
)
