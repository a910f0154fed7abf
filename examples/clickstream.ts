/**
 * The demo job (`npm start`): a synthetic clickstream, decoded from JSON lines (a few are broken on
 * purpose and go to the dead-letter output), stamped with event time, counted per page in one-minute
 * tumbling windows at parallelism 2, with running totals per page. No external service: everything
 * runs in this process. Prints progress while it runs, then what it computed and its throughput.
 */
import {
  DEAD_LETTERS,
  StreamEnvironment,
  aggregate,
  assignTimestampsAndWatermarks,
  decode,
  keyBy,
  map,
  reduce,
  tumblingEventTimeWindows,
  window,
  WatermarkStrategy,
  CallbackSink,
  type DeadLetter,
} from 'sluice'

const EVENTS = Number(process.env.EVENTS ?? 2_000_000)
const PAGES = [
  '/',
  '/search',
  '/cart',
  '/checkout',
  '/help',
  '/product/1',
  '/product/2',
  '/product/3',
  '/account',
  '/blog',
]
const START = Date.UTC(2026, 10, 25, 12, 0, 0)

interface Click {
  user: number
  page: string
  at: number
}

/** Deterministic pseudo-random clicks as JSON lines, about 1,000 per simulated second, slightly out of order. */
function clickLine(i: number): string {
  if (i % 100_000 === 99_999) return `{"broken": ${i}` // a malformed line, on purpose
  const h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0
  const page = PAGES[(h % 97) % 7 === 0 ? h % PAGES.length : (h >>> 8) % 4]!
  const at = START + i - (h % 2_000)
  return JSON.stringify({ user: h % 5_000, page, at })
}

const env = StreamEnvironment.create({ parallelism: 2 })

const clicks = env.fromSequence(0, EVENTS - 1, { name: 'clicks' }).pipe(
  map(clickLine, { name: 'render' }),
  decode((line: string) => JSON.parse(line) as Click, { name: 'decode' }),
)

const deadLetters: DeadLetter[] = []
clicks
  .getSideOutput(DEAD_LETTERS)
  .sinkTo(new CallbackSink((l: DeadLetter) => deadLetters.push(l)), { name: 'dead letters' })

const perMinute = clicks.pipe(
  assignTimestampsAndWatermarks(
    WatermarkStrategy.forBoundedOutOfOrderness<Click>(2_000).withTimestampAssigner((c) => c.at),
  ),
  keyBy((c: Click) => c.page),
  window(tumblingEventTimeWindows(60_000)),
  aggregate(
    {
      createAccumulator: () => ({ page: '', minute: 0, clicks: 0 }),
      add: (c: Click, acc: { page: string; minute: number; clicks: number }) => ({
        page: c.page,
        minute: Math.floor(c.at / 60_000),
        clicks: acc.clicks + 1,
      }),
      getResult: (acc: { page: string; minute: number; clicks: number }) => acc,
    },
    { name: 'clicks per minute' },
  ),
)

const windows: Array<{ page: string; minute: number; clicks: number }> = []
perMinute.sinkTo(new CallbackSink((w: { page: string; minute: number; clicks: number }) => windows.push(w)), {
  name: 'windows',
})

const totals = new Map<string, number>()
perMinute
  .pipe(
    keyBy((w: { page: string }) => w.page),
    reduce(
      (a: { page: string; minute: number; clicks: number }, b: { page: string; minute: number; clicks: number }) => ({
        ...b,
        clicks: a.clicks + b.clicks,
      }),
      { name: 'running total' },
    ),
  )
  .sinkTo(new CallbackSink((t: { page: string; clicks: number }) => totals.set(t.page, t.clicks)), { name: 'totals' })

const started = performance.now()
const job = env.executeAsync('clickstream demo')
const progress = job.progress(500).subscribe((m) => {
  const decoded = m.operators.find((o) => o.operator.startsWith('decode'))
  const read = m.operators.find((o) => o.operator.startsWith('clicks'))?.recordsOut ?? 0
  process.stderr.write(
    `  … ${read.toLocaleString('en')} / ${EVENTS.toLocaleString('en')} events read, ${(decoded?.recordsOut ?? 0).toLocaleString('en')} decoded\n`,
  )
})
const result = await job.result
progress.unsubscribe()
const seconds = (performance.now() - started) / 1000

console.log(
  `\nclickstream demo: ${EVENTS.toLocaleString('en')} events in ${seconds.toFixed(2)} s = ${Math.round(EVENTS / seconds).toLocaleString('en')} events/s (parallelism 2)`,
)
console.log(
  `one-minute windows emitted: ${windows.length}; dead letters: ${deadLetters.length}${deadLetters[0] ? ` (e.g. ${JSON.stringify(deadLetters[0].record)}: ${deadLetters[0].reason})` : ''}`,
)
console.log('clicks per page:')
for (const [page, n] of [...totals].sort((a, b) => b[1] - a[1]))
  console.log(`  ${page.padEnd(12)} ${n.toLocaleString('en').padStart(10)}`)
const busiest = windows.reduce((a, b) => (b.clicks > a.clicks ? b : a), windows[0]!)
console.log(
  `busiest minute: ${busiest.page} at ${new Date(busiest.minute * 60_000).toISOString().slice(11, 16)} UTC with ${busiest.clicks} clicks`,
)
const counted = [...totals.values()].reduce((a, b) => a + b, 0)
console.log(
  `check: ${counted.toLocaleString('en')} clicks counted + ${deadLetters.length} dead letters = ${(counted + deadLetters.length).toLocaleString('en')} events (${counted + deadLetters.length === EVENTS ? 'all accounted for' : 'MISMATCH'}); job ${result.status}`,
)
