// Case s — the job server's cost: the engine contenders of cases a (stateless chain) and b (keyed count)
// run twice, once plain and once with a job server in the process serving every job (the process-wide
// job registry) and a Prometheus scrape of /metrics every second. Target (issue 18): ≥ 0.97× without.
import { JobServer } from '../../lib/server/job-server.js'
import { createLogger } from '../../lib/logging.js'
import { type BenchCase, type Contender, type RunResult, formatRate } from '../measure.js'
import { keyedCase } from './keyed.js'
import { statelessCase } from './stateless.js'

/** Runs `run` with a job server up and scraped every second (timed alone); the scrape count goes into the extras. */
async function withScrapedServer(run: () => Promise<RunResult> | RunResult): Promise<RunResult> {
  const server = await JobServer.start({ token: 'bench', logger: createLogger({ level: 'silent' }) })
  let scrapes = 0
  const scrape = () =>
    void fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer bench' } })
      .then((r) => r.text())
      .then(() => void scrapes++)
      // a scrape still in flight when the server closes at the end of a run is cut off: not counted
      .catch(() => {})
  const timer = setInterval(scrape, 1_000)
  scrape()
  try {
    // timed without the server's start and close: what is measured is the job while it is served
    const started = performance.now()
    const result = await run()
    const ms = result.ms ?? performance.now() - started
    return { ...result, ms, extra: { ...result.extra, scrapes } }
  } finally {
    clearInterval(timer)
    await server.close()
  }
}

export const serverOverheadCase: BenchCase = {
  id: 'server-overhead',
  title: 's) job server cost: cases a and b with a job server and a /metrics scrape every second, against without',
  async prepare(options) {
    const contenders: Contender[] = []
    const pairs: Array<[string, string]> = []
    for (const bench of [statelessCase, keyedCase]) {
      const engine = (await bench.prepare(options)).contenders.find((c) => c.role === 'engine')!
      const plain = `${bench.id}: ${engine.name}, no server`
      const served = `${bench.id}: ${engine.name}, job server + scrape/s`
      contenders.push({ name: plain, role: 'baseline', run: () => engine.run() })
      contenders.push({ name: served, role: 'engine', run: () => withScrapedServer(() => engine.run()) })
      pairs.push([served, plain])
    }
    return {
      contenders,
      compareChecksums: false,
      targets: (s) =>
        pairs.map(([served, plain]) => {
          const ratio = s.get(served)!.rate / s.get(plain)!.rate
          return {
            label: `s) ${served} ≥ 0.97× without`,
            pass: ratio >= 0.97,
            actual: `${ratio.toFixed(3)}× (${formatRate(s.get(served)!.rate)} vs ${formatRate(s.get(plain)!.rate)} records/s)`,
          }
        }),
      notes: ['Both contenders of a pair run the same job; only the server and its scrapes differ.'],
    }
  },
}
