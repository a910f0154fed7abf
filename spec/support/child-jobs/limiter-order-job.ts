/**
 * A job file for the executor tests, run as `node --import tsx limiter-order-job.ts`: a job on two
 * worker threads whose async operator uses a shared limiter that the workers, running this file again,
 * make with another concurrency than the coordinator (a limiter made out of order). It prints one JSON
 * line: how the job ended.
 */
import {
  CallbackSink,
  StreamEnvironment,
  asyncMap,
  isCoordinator,
  onCoordinator,
  sharedLimiter,
} from '../../../lib/index.js'

const limiter = sharedLimiter(isCoordinator() ? 1 : 2)
const env = StreamEnvironment.create({
  parallelism: 2,
  logLevel: 'silent',
  executor: { kind: 'workers', threads: 2 },
  restartStrategy: { kind: 'none' },
})
env
  .fromSequence(1, 10, { uid: 'numbers' })
  .pipe(asyncMap(async (x: number) => x, { limiter, name: 'limited', uid: 'limited' }))
  .sinkTo(new CallbackSink<number>(() => {}), { name: 'out', uid: 'out' })
const outcome = await env.execute('limited').then(
  (r) => ({ status: r.status }),
  (error: Error) => ({ status: 'failed', error: `${(error as { code?: string }).code}: ${error.message}` }),
)
onCoordinator(() => process.stdout.write(`${JSON.stringify(outcome)}\n`))
