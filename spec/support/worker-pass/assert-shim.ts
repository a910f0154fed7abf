// `uvu/assert` in a worker thread of the worker-executor test pass that replays a test to build its
// job: nothing is asserted there (a job of the test that the worker does not host resolves at once
// with nothing, and asserting on it would stop the replay before the job the worker hosts). On the
// coordinator this module is uvu/assert itself.
import * as real from 'uvu/assert'
import { replayedTest } from './pass-context.js'

const replaying = replayedTest() !== undefined
const nothing = (): void => {}

export const Assertion = real.Assertion
export const ok = replaying ? nothing : real.ok
export const is = Object.assign(replaying ? nothing : real.is, { not: replaying ? nothing : real.is.not })
export const equal = replaying ? nothing : real.equal
export const type = replaying ? nothing : real.type
export const instance = replaying ? nothing : real.instance
export const match = replaying ? nothing : real.match
export const snapshot = replaying ? nothing : real.snapshot
export const fixture = replaying ? nothing : real.fixture
export const unreachable = replaying ? nothing : real.unreachable
export const not = replaying
  ? Object.assign(nothing, {
      ok: nothing,
      equal: nothing,
      type: nothing,
      instance: nothing,
      match: nothing,
      snapshot: nothing,
      fixture: nothing,
      throws: nothing,
    })
  : real.not
export const throws = replaying
  ? (fn: () => unknown): void => {
      try {
        fn()
      } catch {}
    }
  : real.throws
