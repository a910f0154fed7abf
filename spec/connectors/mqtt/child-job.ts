/**
 * An MQTT job for SIGKILL tests, run as its own process:
 *
 *   node --import tsx spec/connectors/mqtt/child-job.ts '<plan json>' <work dir>
 *
 * plan.kind 'source': subscribes to plan.topic as plan.clientId (QoS 1, persistent session) and
 * commits every payload (a number) into the file ledger `<work dir>/ledger` (exactly-once); it never
 * ends by itself. plan.kind 'sink': publishes the numbers 0 … plan.records-1 to plan.topic with QoS 1
 * and ends. Checkpoints go to `<work dir>/checkpoints` (DirectoryStorage); started again with the same
 * directory the job resumes from the newest complete checkpoint there. It prints `running`,
 * `checkpoint <id>` and `finished`, and exits 0 when the job finished, 1 when it failed.
 */
import { join } from 'node:path'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { DirectoryStorage } from '../../../lib/checkpoint/directory-storage.js'
import { MqttSink, MqttSource, type MqttMessage } from '../../../lib/connectors/mqtt/index.js'
import { asyncMap } from '../../../lib/operators/async-map.js'
import { map } from '../../../lib/operators/map.js'
import { FileLedger, FileLedgerSink } from '../../support/ledger-files.js'
import { jobArguments, reportJob } from '../../support/job-process.js'

export interface MqttChildPlan {
  readonly kind: 'source' | 'sink'
  readonly url: string
  readonly protocolVersion: 4 | 5
  readonly topic: string
  readonly clientId: string
  readonly records: number
}

const [planText, workDir] = jobArguments('spec/connectors/mqtt/child-job.ts', '<plan json>', '<work dir>')
const plan = JSON.parse(planText) as MqttChildPlan
const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1))

const env = StreamEnvironment.create({
  logLevel: 'silent',
  batchSize: 64,
  checkpointing: { intervalMs: 20, storage: new DirectoryStorage(join(workDir, 'checkpoints')) },
})
if (plan.kind === 'source') {
  let seen = 0
  env
    .fromSource(
      new MqttSource({
        url: plan.url,
        protocolVersion: plan.protocolVersion,
        topics: plan.topic,
        clientId: plan.clientId,
        qos: 1,
      }),
      { uid: 'mqtt-source' },
    )
    // decode first: what asyncMap holds in flight goes into checkpoints as JSON, which a Buffer payload does not survive
    .pipe(map((m: MqttMessage) => Number(m.payload.toString()), { uid: 'decode' }))
    // a timer turn every 20 messages: slow enough to be killed mid-stream
    .pipe(
      asyncMap(
        async (n: number) => {
          if (++seen % 20 === 0) await tick()
          return n
        },
        { capacity: 4, uid: 'slow' },
      ),
    )
    .sinkTo(new FileLedgerSink(new FileLedger(join(workDir, 'ledger'))), { uid: 'ledger' })
} else {
  env
    .fromAsyncIterable(
      async function* () {
        for (let n = 0; n < plan.records; n++) {
          if (n % 20 === 0) await tick()
          yield n
        }
      },
      { uid: 'numbers' },
    )
    .sinkTo(
      new MqttSink<number>({
        url: plan.url,
        protocolVersion: plan.protocolVersion,
        topic: plan.topic,
        qos: 1,
        serializer: String,
        clientId: plan.clientId,
      }),
      { uid: 'mqtt-sink' },
    )
}
const job = env.executeAsync(`mqtt ${plan.kind}`)
reportJob(job)
