// Case s — the job server's cost: the engine contenders of cases a (stateless chain) and b (keyed count)
// run twice, once plain and once with a job server in the process serving every job (the process-wide
// job registry) and scraped at /metrics every second by another process, as Prometheus would (the
// scraper's CPU is not the engine's). The scraper is started once per case, before any run: spawning a
// process forks this one, whose large input arrays would make every timed run pay for the fork. Runs
// are 8× the case size so that each lasts a second or more and sees scrapes at their real rate.
// Target (issue 18): ≥ 0.97× without.
import { spawn } from 'node:child_process'
import type { Socket } from 'node:net'
import { JobServer } from '../../lib/server/job-server.js'
import { createLogger } from '../../lib/logging.js'
import { type BenchCase, type Contender, type RunResult, formatRate, hotPhase } from '../measure.js'
import { keyedCase } from './keyed.js'
import { statelessCase } from './stateless.js'

/** Records per run, as a multiple of the case size. */
const SIZE_FACTOR = 8

/**
 * A Prometheus stand-in, one process for the whole case: on `start <url>` it GETs the URL at once and
 * every second (bearer token 'bench'), printing '.' per answered scrape; `stop` ends the scraping. It
 * exits when this process does (its stdin ends).
 */
const SCRAPER = `
let timer
const lines = require('node:readline').createInterface({ input: process.stdin })
lines.on('line', (line) => {
  clearInterval(timer)
  const [command, url] = line.split(' ')
  if (command !== 'start') return
  const scrape = () => fetch(url, { headers: { authorization: 'Bearer bench' } })
    .then((r) => r.text()).then(() => process.stdout.write('.'), () => {})
  scrape()
  timer = setInterval(scrape, 1000)
})
lines.on('close', () => process.exit(0))
`

/** The scraper process, started at once (outside every timed run) and left to exit with this process. */
function startScraper(): { serve(url: string): void; stop(): void; readonly scrapes: number } {
  const child = spawn(process.execPath, ['-e', SCRAPER], { stdio: ['pipe', 'pipe', 'inherit'] })
  let scrapes = 0
  child.stdout.setEncoding('utf8').on('data', (dots: string) => void (scrapes += dots.length))
  // piped stdio are sockets: unreferenced, neither they nor the child keep this process alive
  child.unref()
  ;(child.stdout as Socket).unref()
  ;(child.stdin as Socket).unref()
  return {
    serve: (url) => void child.stdin.write(`start ${url}\n`),
    stop: () => void child.stdin.write('stop\n'),
    get scrapes() {
      return scrapes
    },
  }
}

/** Runs `run` with a job server up and scraped every second (timed alone); the scrape count goes into the extras. */
async function withScrapedServer(
  scraper: ReturnType<typeof startScraper>,
  run: () => Promise<RunResult> | RunResult,
): Promise<RunResult> {
  const server = await JobServer.start({ token: 'bench', logger: createLogger({ level: 'silent' }) })
  const before = scraper.scrapes
  scraper.serve(`${server.url}/metrics`)
  try {
    // timed (wall and CPU) without the server's start and close: what is measured is the job while it is served
    const phase = hotPhase()
    const result = await run()
    const time = phase.end()
    return { ...time, ...result, extra: { ...result.extra, scrapes: scraper.scrapes - before } }
  } finally {
    scraper.stop()
    await server.close()
  }
}

export const serverOverheadCase: BenchCase = {
  id: 'server-overhead',
  title: 's) job server cost: cases a and b with a job server and a /metrics scrape every second, against without',
  async prepare(options) {
    const scraper = startScraper()
    const contenders: Contender[] = []
    const pairs: Array<[string, string]> = []
    for (const bench of [statelessCase, keyedCase]) {
      const sized = { ...options, records: options.records * SIZE_FACTOR }
      const engine = (await bench.prepare(sized)).contenders.find((c) => c.role === 'engine')!
      const plain = `${bench.id}: ${engine.name}, no server`
      const served = `${bench.id}: ${engine.name}, job server + scrape/s`
      contenders.push({ name: plain, role: 'baseline', run: () => engine.run() })
      contenders.push({ name: served, role: 'engine', run: () => withScrapedServer(scraper, () => engine.run()) })
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
      notes: [
        `Both contenders of a pair run the same job on ${SIZE_FACTOR}× the case's records; only the server and its scrapes differ.`,
        'The scraper is a child process (its CPU is not counted); scrapes: how many answered during the run.',
      ],
    }
  },
}
