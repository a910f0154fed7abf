// Type-checked by scripts/check-package.sh against the packed tarball, with moduleResolution node16 and
// bundler: the published declarations resolve, and a typo in a job is a type error.
import { type DataStream, StreamEnvironment, filter, keyBy, map, reduce } from 'sluice'
import { printSink } from 'sluice/connectors'

interface Click {
  page: string
  n: number
}

const env = StreamEnvironment.create({ parallelism: 2 })
const clicks: DataStream<Click> = env.fromCollection(['/a', '/b', '/a']).pipe(
  filter((page: string) => page.length > 0),
  map((page: string) => ({ page, n: 1 })),
)
clicks
  .pipe(
    keyBy((c) => c.page),
    reduce((a, b) => ({ page: a.page, n: a.n + b.n })),
  )
  .sinkTo(printSink<Click>())
const result: Promise<{ status: string }> = env.execute('clicks')
// @ts-expect-error a page is a string
const wrong: DataStream<number> = clicks.pipe(map((c: Click) => c.page))
export { result, wrong }
