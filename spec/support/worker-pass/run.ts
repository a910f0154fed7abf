// The worker-executor test pass: `node --import tsx spec/support/worker-pass/run.ts <dir> <pattern>`
// with SLUICE_EXECUTOR=workers runs the matching spec files as uvu does (same output, same summary),
// with every job whose environment names no executor on worker threads.
//
// A worker thread runs its entry module again to build the job it hosts: here that entry is this
// runner, so it is told (through the worker context) which spec file and test the coordinator is in,
// imports that file alone and replays that one test up to the job (uvu-shim.ts), with assertions
// switched off (assert-shim.ts) and the coordinator's temp directories, names and shared memory
// (pass-context.ts). What a test collects with `executeAndCollect()` or a CallbackSink comes back from
// the workers; what it does outside its job (publishing its input) runs on the coordinator only
// (`coordinatorOnly`), and what only the coordinator has between its jobs (a finished job's
// checkpoints) reaches a worker replaying up to a later job as the result of a `coordinatorStep`;
// tests that watch other memory of the spec's thread are left out by name (left-out.ts).
import { register } from 'node:module'
import { pathToFileURL } from 'node:url'
import { parse } from 'uvu/parse'
import { replayedTest } from './pass-context.js'

// uvu runs nothing by itself (the runner calls exec once every file is imported)
;(globalThis as { UVU_DEFER?: number }).UVU_DEFER = 1
register('./resolve-uvu.mjs', import.meta.url, {
  data: {
    own: new URL('.', import.meta.url).href,
    redirects: {
      uvu: new URL('uvu-shim.ts', import.meta.url).href,
      'uvu/assert': new URL('assert-shim.ts', import.meta.url).href,
    },
  },
})
const { passFile, exec } = await import('./uvu-shim.js')
const { importingFile } = await import('./pass-context.js')

const replayed = replayedTest()
if (replayed !== undefined) await import(pathToFileURL(replayed.file).href)
else {
  const [dir = 'spec', pattern] = process.argv.slice(2)
  const { suites } = await parse(dir, pattern, { cwd: process.cwd() })
  const queue = ((globalThis as { UVU_QUEUE?: unknown[][] }).UVU_QUEUE ??= [])
  let index = 0
  for (const { name, file } of suites) {
    ;(globalThis as { UVU_INDEX?: number }).UVU_INDEX = index++
    queue.push([name])
    passFile(file)
    importingFile(file)
    await import(pathToFileURL(file).href)
  }
  await exec()
  // a job a failed test left running must not keep the pass from ending (exec set the exit code)
  process.exit()
}
