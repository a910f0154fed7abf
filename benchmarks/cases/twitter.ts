// Twitter (X) source case, against the X protocol server of the tests (spec/support/x-stream-server.ts)
// on loopback, in this process: each run, the next stream connection is sent n tweets (≈ 330 bytes of
// JSON each, `\r\n`-delimited, rendered before the timing starts) as fast as the client reads them.
// - The engine: TwitterSource (sample stream, created_at as event time, ids remembered for the backfill
//   window) into a counting sink, checkpointing every second (README's interval: the source never waits
//   for a checkpoint, unlike the ack-on-checkpoint sources whose cases use 10–50 ms), and again every
//   100 ms (the interval of the earlier runs); timed from job start until the n-th tweet reached the sink,
//   then cancelled.
// - The baseline: twitter-api-v2 alone, the same client setup (`setPrefix`, an http agent), `sampleStream`
//   connected, counting its 'data' events until the n-th; then closed.
// Both parse with the library's own stream parser. n is the case's own (200,000; 50,000 with --quick).
// Target (issue 14): engine (checkpoints every second) ≥ 0.8 × the baseline.
import { CountingSink } from '../counting-sink.js'
import { Agent } from 'node:http'
import { TwitterApi } from 'twitter-api-v2'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { type TweetRecord, TwitterSource } from '../../lib/connectors/twitter/index.js'
import { XStreamServer } from '../../spec/support/x-stream-server.js'
import {
  type BenchCase,
  type RunResult,
  type Summary,
  type TargetCheck,
  formatInt,
  hotPhase,
  until,
} from '../measure.js'

const TOKEN = 'bench-bearer-token'
const CHECKPOINT_MS = 1_000
/** The interval of the earlier runs: more checkpoints per run the slower the machine, each holding every id so far. */
const FREQUENT_CHECKPOINT_MS = 100
const TARGET = 0.8

const ENGINE = `engine: TwitterSource (backfill ids kept), checkpoint every ${CHECKPOINT_MS} ms`
const REPS = 9
const WARMUP = 1

/** X's ids grow by 2^22 a millisecond (snowflakes); the 1 % sample stream sends a tweet every ~20 ms. */
const FIRST_ID = 1_460_323_737_035_677_698n
const ID_STEP = 20n * 4_194_304n

/** n tweets as X's sample stream sends them, snowflake ids ~20 ms apart. */
function render(n: number): Buffer {
  const lines: string[] = []
  const created = new Date().toISOString()
  for (let i = 0; i < n; i++) {
    const id = String(FIRST_ID + BigInt(i) * ID_STEP + BigInt(i % 4096))
    lines.push(
      JSON.stringify({
        data: {
          id,
          text: `tweet number ${i}: the quick brown fox jumps over the lazy dog, again and again, #sluice #streams`,
          created_at: created,
          author_id: String(2_000_000 + (i % 997)),
          lang: 'en',
          edit_history_tweet_ids: [id],
        },
      }),
    )
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`)
}

/** The checksum of the ids: the sum of their last six digits. */
const idDigits = (id: string): number => Number(id.slice(-6))

async function engine(x: XStreamServer, load: Buffer, n: number, checkpointMs: number): Promise<RunResult> {
  x.sendOnNextStream(load)
  const sink = new CountingSink((record: TweetRecord) => idDigits(record.tweet.id))
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: checkpointMs } })
  env
    .fromSource(new TwitterSource({ bearerToken: TOKEN, baseUrl: x.baseUrl, stream: 'sample', backfillMinutes: 1 }), {
      uid: 'x',
    })
    .sinkTo(sink)
  const phase = hotPhase()
  const job = env.executeAsync('bench: twitter source')
  await until(() => sink.output >= n)
  const time = phase.end()
  await job.cancel()
  await job.result.catch(() => {})
  return { records: n, output: sink.output, checksum: sink.checksum, ...time }
}

async function raw(x: XStreamServer, load: Buffer, n: number): Promise<RunResult> {
  x.sendOnNextStream(load)
  let output = 0
  let checksum = 0
  const phase = hotPhase()
  const client = new TwitterApi(TOKEN, { httpAgent: new Agent({ keepAlive: true }) })
  ;(client.v2 as unknown as { setPrefix(prefix: string): void }).setPrefix(x.baseUrl)
  const stream = client.v2.sampleStream({ 'tweet.fields': ['created_at'], autoConnect: false })
  const done = new Promise<void>((resolve) => {
    stream.on('data event content', (message: { data: { id: string } }) => {
      output++
      checksum += idDigits(message.data.id)
      if (output === n) resolve()
    })
  })
  await stream.connect({ autoReconnect: false, keepAliveTimeout: 'disable' })
  await done
  const time = phase.end()
  stream.destroy()
  return { records: n, output, checksum, ...time }
}

function targets(s: ReadonlyMap<string, Summary>): TargetCheck[] {
  const e = [...s.values()].find((x) => x.name === ENGINE)!
  const b = [...s.values()].find((x) => x.role === 'baseline')!
  const ratio = e.rate / b.rate
  return [
    {
      label: `twitter source: engine ≥ ${TARGET} × ${b.name}`,
      pass: ratio >= TARGET,
      actual: `${ratio.toFixed(2)}× (${formatInt(e.rate)} vs ${formatInt(b.rate)} tweets/s)`,
    },
  ]
}

export const twitterSourceCase: BenchCase = {
  id: 'twitter',
  title: 'Twitter (X) source: v2 sample stream from the loopback X protocol server, twitter-api-v2 parsing',
  async prepare({ quick }) {
    const n = quick ? 50_000 : 200_000
    const load = render(n)
    const x = await XStreamServer.start({ token: TOKEN })
    return {
      reps: REPS,
      warmup: WARMUP,
      unit: 'messages',
      contenders: [
        { name: ENGINE, role: 'engine', run: () => engine(x, load, n, CHECKPOINT_MS) },
        {
          name: `engine: TwitterSource (backfill ids kept), checkpoint every ${FREQUENT_CHECKPOINT_MS} ms`,
          role: 'engine',
          run: () => engine(x, load, n, FREQUENT_CHECKPOINT_MS),
        },
        { name: 'twitter-api-v2 sampleStream alone', role: 'baseline', run: () => raw(x, load, n) },
      ],
      notes: [
        `${formatInt(n)} tweets of ${Math.round(load.length / n)} bytes per run whatever --records says, from the X protocol server on loopback in this process; connecting is timed for both, and the engine's job setup.`,
      ],
      targets,
      teardown: () => x.close(),
    }
  },
}
