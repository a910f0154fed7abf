import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { FileLedger } from '../../support/ledger-files.js'
import { tempDir } from '../../support/temp-dir.js'
import { waitFor } from '../../support/wait-for.js'
import { census } from '../redis/support.js'
import type { MqttChildPlan } from './child-job.js'
import { BROKERS, MosquittoForSuite, forgetSession, publishNumbers, publisher, unique } from './support.js'
import mqtt from 'mqtt'

/**
 * SIGKILL of an MQTT job process mid-stream, started again on the same checkpoint directory
 * (spec/connectors/mqtt/child-job.ts): the source loses no message (at-least-once) on Mosquitto and
 * on ActiveMQ; the sink's messages all reach a subscriber.
 */
const MqttKill = suite('mqtt process kill')
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const SCRIPT = 'spec/connectors/mqtt/child-job.ts'
const mosquitto = new MosquittoForSuite()
MqttKill.before(() => mosquitto.start())
MqttKill.after(() => mosquitto.stop())

interface Run {
  readonly killed: boolean
  readonly code: number | null
  readonly lines: string[]
}

/** Runs the child until `stop(lines)` holds (then SIGKILLs it) or it exits by itself. */
function runUntil(
  plan: MqttChildPlan,
  dir: string,
  stop: (lines: readonly string[]) => boolean,
  timeoutMs = 30_000,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(plan), dir], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const lines: string[] = []
    let partial = ''
    let stderr = ''
    let killed = false
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      const parts = (partial + text).split('\n')
      partial = parts.pop()!
      lines.push(...parts)
    })
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      stderr += text
    })
    const deadline = performance.now() + timeoutMs
    const poll = setInterval(() => {
      if (child.exitCode !== null || killed) return
      if (stop(lines) || performance.now() > deadline) {
        killed = true
        child.kill('SIGKILL')
      }
    }, 10)
    child.once('error', reject)
    child.once('exit', (code) => {
      clearInterval(poll)
      if (!killed && code !== 0) reject(new Error(`child failed (exit ${code}): ${stderr}`))
      else resolve({ killed, code, lines })
    })
  })
}

const after =
  (word: string, count = 1) =>
  (lines: readonly string[]) =>
    lines.filter((l) => l.startsWith(word)).length >= count

for (const broker of [BROKERS[0]!, BROKERS[2]!]) {
  MqttKill(
    `${broker.name}: source SIGKILLed twice mid-stream and restarted from its checkpoint directory loses no message`,
    async () => {
      const url = mosquitto.urlOf(broker)
      const { topic, clientId } = unique('kill-source')
      const records = 4000
      const plan: MqttChildPlan = {
        kind: 'source',
        url,
        protocolVersion: broker.protocolVersion,
        topic,
        clientId,
        records,
      }
      const dir = tempDir('sluice-mqtt-kill-')
      const ledger = `${dir.path}/ledger`
      const committed = (): number[] => FileLedger.readCommitted<number>(ledger)
      const pub = await publisher(url)
      try {
        let publishing: Promise<void> | undefined
        const first = await runUntil(plan, dir.path, (lines) => {
          // the persistent session exists once the job runs: publish from then on, while it reads
          if (publishing === undefined && after('running')(lines)) publishing = publishNumbers(pub, topic, records)
          return after('checkpoint', 3)(lines)
        })
        const atFirstKill = new Set(committed()).size
        let started = 0
        const second = await runUntil(plan, dir.path, (lines) => {
          if (started === 0 && after('running')(lines)) started = performance.now()
          return started > 0 && performance.now() - started > 150
        })
        const atSecondKill = new Set(committed()).size
        await publishing
        const third = await runUntil(plan, dir.path, () => new Set(committed()).size >= records)
        assert.ok(first.killed && second.killed && third.killed)
        assert.ok(
          atFirstKill < records && atSecondKill < records,
          `both kills came mid-stream (${atFirstKill}, ${atSecondKill} of ${records} committed)`,
        )
        const { missing } = census(committed(), records)
        assert.equal(missing, [], 'nothing lost')
      } finally {
        await pub.endAsync()
        await forgetSession(url, clientId)
        dir.remove()
      }
    },
  )
}

MqttKill(
  'Mosquitto (MQTT 5): sink SIGKILLed twice mid-stream and restarted from its checkpoint directory delivers every message',
  async () => {
    const url = mosquitto.urlOf(BROKERS[0]!)
    const { topic, clientId } = unique('kill-sink')
    const records = 4000
    const received = new Set<number>()
    const subscriber = await mqtt.connectAsync(url, {
      clientId: `${clientId}-subscriber`,
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 600 },
    })
    subscriber.on('message', (_topic, payload) => received.add(Number(payload.toString())))
    await subscriber.subscribeAsync(topic, { qos: 1 })
    const plan: MqttChildPlan = { kind: 'sink', url, protocolVersion: 5, topic, clientId, records }
    const dir = tempDir('sluice-mqtt-kill-')
    try {
      const first = await runUntil(plan, dir.path, after('checkpoint', 3))
      const atFirstKill = received.size
      let started = 0
      const second = await runUntil(plan, dir.path, (lines) => {
        if (started === 0 && after('running')(lines)) started = performance.now()
        return started > 0 && performance.now() - started > 100
      })
      const third = await runUntil(plan, dir.path, () => false)
      assert.ok(first.killed && second.killed, 'killed twice')
      assert.is(third.code, 0, 'the third run finished')
      assert.ok(atFirstKill < records, `the first kill came mid-stream (${atFirstKill} received)`)
      await waitFor(() => received.size === records, {
        timeoutMs: 10_000,
        description: `all ${records} received (have ${received.size})`,
      })
    } finally {
      await subscriber.endAsync()
      await forgetSession(url, `${clientId}-subscriber`)
      dir.remove()
    }
  },
)

MqttKill.run()
