// Runs a test command and passes its output through; once uvu has printed its summary (the
// "Duration:" line), the command has 60 s to exit. A test that left a handle open (a server, a
// client reconnecting, a timer) would otherwise keep the process, and CI, waiting forever: it is
// killed and the exit status is 1.
//   node scripts/exit-after-summary.mjs node --import tsx node_modules/uvu/bin.js spec '\.spec\.ts$'
import { spawn } from 'node:child_process'

const GRACE_MS = Number(process.env.SLUICE_EXIT_GRACE_MS ?? 60_000)
const [command, ...args] = process.argv.slice(2)
if (command === undefined) {
  process.stderr.write('usage: node scripts/exit-after-summary.mjs <command> [args…]\n')
  process.exit(2)
}
const child = spawn(command, args, { stdio: ['inherit', 'pipe', 'pipe'] })
let timer
let tail = ''
const watch = (chunk) => {
  if (timer !== undefined) return
  // uvu's summary: "  Total: n", "  Passed: n", "  Skipped: n", "  Duration: 123.45ms"
  tail = (tail + chunk.toString()).slice(-4096)
  if (/^\s+Total:\s+\d+[\s\S]*^\s+Duration:\s+[\d.]+ms/m.test(tail.replace(/\x1b\[[0-9;]*m/g, ''))) {
    timer = setTimeout(() => {
      process.stderr.write(
        `\nthe test process did not exit ${GRACE_MS / 1000} s after its summary: a test left a handle open (a server, a client, a timer); killed\n`,
      )
      child.kill('SIGKILL')
    }, GRACE_MS)
  }
}
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  watch(chunk)
})
child.stderr.on('data', (chunk) => process.stderr.write(chunk))
child.on('exit', (code, signal) => {
  clearTimeout(timer)
  process.exitCode = signal === null ? code : 1
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
