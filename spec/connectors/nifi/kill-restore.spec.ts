import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type { KillPoint } from '../../support/fault-injection.js'
import { briefly, runKilledUntilFinished } from '../../support/fault-process.js'
import { NiFiTestCluster } from '../../support/nifi-s2s-server.js'
import { tempDir } from '../../support/temp-dir.js'

/**
 * SIGKILL mid-stream: a job process (spec/connectors/nifi/kill-job.ts) relaying NiFi output port →
 * NiFi input port, with its checkpoints in a directory, is killed at several moments and started
 * again on the same directory. NiFi (the loopback cluster, 2 nodes; output-port transactions expire
 * after 3 s, input-port ones after 30 s: longer than a restart under load, as the docs require of the sink) must end with every FlowFile in the input port exactly
 * once: the source's confirmation on checkpoint completion + uuid dedup, and the sink's two-phase
 * commit with the restored transactions committed.
 */
const SCRIPT = 'spec/connectors/nifi/kill-job.ts'
const N = 6000
const KILLS: KillPoint[] = [
  { after: 'checkpoint', checkpoints: 3, delayMs: 7 },
  { after: 'running', delayMs: 300 },
  { after: 'checkpoint', checkpoints: 2, delayMs: 0 },
]

test(`source and sink: ${N} FlowFiles relayed, SIGKILLed ${KILLS.length} times and restored; NiFi holds each exactly once`, async () => {
  const nifi = await NiFiTestCluster.start({
    nodes: 2,
    inputPorts: ['in'],
    outputPorts: ['out'],
    ttlSeconds: 3,
    inputTtlSeconds: 30,
  })
  const dir = tempDir('sluice-nifi-kill-')
  try {
    nifi.enqueue(
      'out',
      Array.from({ length: N }, (_, i) => ({ attributes: { seq: String(i) }, content: Buffer.from(`v${i}`) })),
    )
    const { kills, log } = await runKilledUntilFinished(
      SCRIPT,
      [JSON.stringify({ url: nifi.url, count: N }), dir.path],
      KILLS,
      { timeoutMs: 90_000, describe: (outcome) => `${briefly(outcome)}, NiFi has ${nifi.received('in').length}` },
    )
    const where = `\n  ${log.join('\n  ')}`
    assert.ok(kills >= 2, `killed at least twice mid-stream${where}`)
    const got = nifi.received('in').map((f) => f.content.toString())
    const distinct = new Set(got)
    assert.is(distinct.size, N, `every FlowFile reached NiFi${where}`)
    assert.is(got.length, N, `no duplicate (${got.length - distinct.size})${where}`)
    assert.ok(nifi.received('in').every((f) => f.content.toString() === `v${f.attributes.seq}`))
    assert.is(nifi.queued('out'), 0, 'every source transaction confirmed')
  } finally {
    dir.remove()
    await nifi.stop()
  }
})

test.run()
