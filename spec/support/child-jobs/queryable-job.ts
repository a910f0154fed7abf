/**
 * A job file for the worker-executor queryable-state test, run as
 * `node --import tsx queryable-job.ts`: a keyed click count at parallelism 4 on two worker threads,
 * fed through an actor source and counted out through an actor sink (both actors on the coordinator),
 * serving two queryable states: `count` per page, and `thread`, the thread id of the worker that counted
 * the page. The coordinator
 * 1. sends 40 pages (page i clicked 1 + i % 5 times) and one click on `malformed`, which the job's
 *    `validate` step (onError 'resume') sends to the dead letters; once the sink has every count, asks
 *    for both states of every page at once, and waits for the workers' metrics to count every click;
 * 2. sends the page `poison`, whose subtask takes the next message of its worker's port from inside the
 *    record — the coordinator's next lookup, which it never answers — and exits the worker thread: the
 *    coordinator asks for `poison` until an error answers (before that: no value), which is that lookup's;
 * 3. once the job runs again (on fresh workers, with empty state: no checkpoints), sends one more click
 *    and asks for it.
 * Every worker thread runs this file again and builds the same job. Prints one JSON line.
 */
import { parentPort, receiveMessageOnPort, threadId } from 'node:worker_threads'
import { ActorSystem } from '../../../lib/actors/actor-system.js'
import { type ActorSinkMessage, actorSink, actorSource } from '../../../lib/connectors/actor/index.js'
import {
  type Collector,
  isCoordinator,
  type DeadLetter,
  keyBy,
  map,
  type ProcessContext,
  type ProcessFunction,
  process as processWith,
  QueryableStateClient,
  type RuntimeContext,
  StreamEnvironment,
  type ValueState,
  ValueStateDescriptor,
} from '../../../lib/index.js'

const PAGES = Array.from({ length: 40 }, (_, i) => `/page/${i}`)
const clicksOf = (i: number): number => 1 + (i % 5)

/** Counts clicks per page; on `poison`, swallows its worker's next lookup and exits the thread. */
class CountClicks implements ProcessFunction<string, number> {
  private count!: ValueState<number>
  private thread!: ValueState<number>
  open(rt: RuntimeContext) {
    this.count = rt.getState(new ValueStateDescriptor<number>('count', { defaultValue: 0, queryable: 'count' }))
    this.thread = rt.getState(new ValueStateDescriptor<number>('thread', { queryable: 'thread' }))
  }
  processElement(page: string, _ctx: ProcessContext, out: Collector<number>) {
    if (page === 'poison') dieWithALookupUnanswered()
    const n = this.count.value()! + 1
    this.count.update(n)
    this.thread.update(threadId)
    out.collect(n)
  }
}

/** Waits, inside the record, for the coordinator's next lookup to this thread; takes it and exits. */
function dieWithALookupUnanswered(): never {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const taken = receiveMessageOnPort(parentPort!)
    if ((taken?.message as { t?: string } | undefined)?.t === 'lookup') process.exit(1)
  }
  throw new Error('no lookup came within 60 s')
}

const system = new ActorSystem({ name: 'app' })
let processed = 0
const target = system.spawn<ActorSinkMessage<number>>(
  () => ({
    receive(m) {
      if (m.type === 'record') processed++
      if (m.type === 'init' || m.type === 'record') m.replyTo.tell({ type: 'ack' })
    },
  }),
  { name: 'counted' },
)
const source = actorSource<string>({ system, actorName: 'pages' })
const env = StreamEnvironment.create({
  parallelism: 4,
  logLevel: 'silent',
  executor: { kind: 'workers', threads: 2 },
  queryableState: { port: 0 },
  restartStrategy: { kind: 'fixed-delay', attempts: 1, delayMs: 0 },
})
env
  .fromSource(source, { uid: 'pages' })
  .pipe(
    map(
      (page: string) => {
        if (page === 'malformed') throw new Error('not a page')
        return page
      },
      { uid: 'validate', name: 'validate', onError: 'resume' },
    ),
    keyBy((page: string) => page),
    processWith(new CountClicks(), { uid: 'count' }),
  )
  .sinkTo(actorSink({ target }), { uid: 'counted' })
const job = env.executeAsync('clicks')
const deadLetters: DeadLetter[] = []
job.deadLetters.subscribe((letter) => deadLetters.push(letter))
/** The clicks the workers' subtasks of `count` have taken, as their latest metrics report says. */
const countedIn = (): number =>
  job
    .metrics()
    .operators.filter((o) => o.operator === 'count')
    .reduce((n, o) => n + o.recordsIn, 0)

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within 60 s: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** The lookup's answer as the client sees it: the value, or the error's code and status. */
async function answer(client: QueryableStateClient, state: string, page: string): Promise<unknown> {
  return client.get(job.id, state, page).then(
    (value) => ({ value }),
    (e: { code: string; status: number }) => ({ code: e.code, status: e.status }),
  )
}

async function coordinate(): Promise<void> {
  await job.running
  const client = new QueryableStateClient(job.queryableStateUrl!, { timeoutMs: 30_000 })
  PAGES.forEach((page, i) => {
    for (let n = 0; n < clicksOf(i); n++) source.ref.tell({ type: 'record', value: page })
  })
  source.ref.tell({ type: 'record', value: 'malformed' })
  const total = PAGES.reduce((sum, _, i) => sum + clicksOf(i), 0)
  await until(() => processed === total, 'every click counted')
  await until(() => countedIn() === total, "the workers' metrics counting every click")
  await until(() => deadLetters.length === 1 && job.metrics().deadLetters === 1, 'the dead letter')
  const metrics = { countedIn: countedIn(), deadLetters: job.metrics().deadLetters }
  const [counts, threads] = await Promise.all(
    ['count', 'thread'].map((state) => Promise.all(PAGES.map((page) => client.get<number>(job.id, state, page)))),
  )
  source.ref.tell({ type: 'record', value: 'poison' })
  // Until the worker takes the poison, the key has no value: the client answers that with undefined
  // (ERR_KEY_NOT_FOUND is the HTTP answer's code, which `get` turns into undefined), so the loop asks
  // again until an error answers; a loop that ended at the first undefined left the worker waiting
  // 60 s for a lookup that never came (the test's flake under load).
  let poison: { value?: unknown; code?: string }
  do poison = (await answer(client, 'count', 'poison')) as typeof poison
  while (poison.code === undefined)
  await until(() => job.exceptions().length === 1 && job.status === 'running', 'the job running again')
  source.ref.tell({ type: 'record', value: PAGES[0]! })
  await until(() => processed === total + 1, 'the click after the restart counted')
  const afterRestart = await answer(client, 'count', PAGES[0]!)
  await job.cancel()
  await system.terminate()
  const line = {
    coordinatorThread: threadId,
    counts: Object.fromEntries(PAGES.map((page, i) => [page, counts![i]])),
    expected: Object.fromEntries(PAGES.map((page, i) => [page, clicksOf(i)])),
    threads: [...new Set(threads)].sort(),
    poison,
    afterRestart,
    restarts: job.exceptions().length,
    metrics,
    deadLetter: { operator: deadLetters[0]!.operator, reason: deadLetters[0]!.reason, record: deadLetters[0]!.record },
  }
  process.stdout.write(`${JSON.stringify(line)}\n`)
}

if (isCoordinator())
  coordinate().catch((error: unknown) => {
    process.stderr.write(`${String((error as Error).stack ?? error)}\n`)
    process.exit(1)
  })
