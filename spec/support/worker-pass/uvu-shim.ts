// `uvu` as the spec files of the worker-executor test pass see it (run.ts redirects their imports
// here). On the coordinator: uvu itself, with each hook and test telling the pass which test runs, so
// that a worker started meanwhile replays that test. In a worker: runs only the replayed test — its
// suite's `before` and `before.each` hooks, then the test — to build the job the worker hosts; its
// outcome there is nobody's (the coordinator's run of the test is the one that passes or fails).
import * as uvu from 'uvu'
import { hostedJobStarted, provideWorkerContext } from '../../../lib/runtime/workers/worker-thread.js'
import { LEFT_OUT } from './left-out.js'
import { currentContext, enterPhase, replayPhase, replayedTest } from './pass-context.js'

type State = Record<string, unknown>
type Handler = (state: State) => unknown
type Test = ((name: string, handler: Handler) => void) & {
  before: ((h: Handler) => void) & { each: (h: Handler) => void }
  after: ((h: Handler) => void) & { each: (h: Handler) => void }
  only: (name: string, handler: Handler) => void
  skip: (name?: string, handler?: Handler) => void
  run: () => void
}

let file = ''

/** The coordinator imports the spec file `path` next: its suites belong to it. */
export function passFile(path: string): void {
  file = path
}

function coordinatorSuite(name: string, state: State): Test {
  const real = uvu.suite(name, state) as unknown as Test
  // the default suite serves every file: a hook or test belongs to the file being imported when it is registered
  const inTest = (h: Handler): Handler => {
    const own = file
    return (s) => {
      enterPhase(own, name, s.__test__ as string)
      provideWorkerContext(currentContext)
      return h(s)
    }
  }
  const inBefore = (h: Handler): Handler => {
    const own = file
    return (s) => {
      enterPhase(own, name, undefined)
      provideWorkerContext(currentContext)
      return h(s)
    }
  }
  const test = ((testName: string, h: Handler) =>
    LEFT_OUT[testName] === undefined ? real(testName, inTest(h)) : real.skip(testName, h)) as Test
  test.before = Object.assign((h: Handler) => real.before(inBefore(h)), {
    each: (h: Handler) => real.before.each(inTest(h)),
  })
  test.after = real.after
  test.only = (testName, h) => real.only(testName, inTest(h))
  test.skip = real.skip
  test.run = real.run
  return test
}

function replayingSuite(name: string, state: State): Test {
  const target = replayedTest()!
  const tests = new Map<string, Handler>()
  const before: Handler[] = []
  const beforeEach: Handler[] = []
  const test = ((testName: string, h: Handler) => void tests.set(testName, h)) as Test
  test.before = Object.assign((h: Handler) => void before.push(h), { each: (h: Handler) => void beforeEach.push(h) })
  test.after = Object.assign(() => {}, { each: () => {} })
  test.only = test
  test.skip = () => {}
  test.run = () => {
    const handler = tests.get(target.test)
    if (name !== target.suite || handler === undefined) return
    void (async () => {
      replayPhase('before')
      for (const h of before) await h(state)
      replayPhase(target.test)
      state.__test__ = target.test
      for (const h of beforeEach) await h(state)
      await handler(state)
    })().catch((error: unknown) => {
      // after the hosted job started, the replay's outcome is nobody's; before it, the worker never
      // builds its job and exits: say why, or the coordinator can only report a worker that exited
      if (!hostedJobStarted())
        process.stderr.write(
          `worker-pass: the replay of "${target.test}" failed before the job this worker hosts: ${(error as Error)?.stack ?? error}\n`,
        )
    })
  }
  return test
}

/** uvu's `suite`, as the pass runs it on this thread. */
export function suite(name = '', state: State = {}): Test {
  state.__suite__ = name
  return replayedTest() === undefined ? coordinatorSuite(name, state) : replayingSuite(name, state)
}

/** uvu's default suite. */
export const test = suite()

export const exec = uvu.exec
