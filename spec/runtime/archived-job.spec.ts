import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { StreamEnvironment } from '../../lib/api/stream-environment.js'
import { CallbackSink } from '../../lib/connectors/collections/callback-sink.js'
import { keyBy } from '../../lib/operators/key-by.js'
import { reduce } from '../../lib/operators/reduce.js'
import { ArchivedJob } from '../../lib/runtime/archived-job.js'
import { jobRegistry } from '../../lib/runtime/job-registry.js'

test('an ended job stays listed as an archive of its final status, metrics and checkpoints, not as its handle', async () => {
  const env = StreamEnvironment.create({ logLevel: 'silent', checkpointing: { intervalMs: 5 } })
  env
    .fromSequence(1, 20_000)
    .pipe(
      keyBy((x: number) => x % 100),
      reduce((a: number, b: number) => a + b),
    )
    .sinkTo(new CallbackSink(() => {}))
  const job = env.executeAsync('archived')
  assert.is(jobRegistry.get(job.id), job, 'a running job is listed as itself')
  const result = await job.result

  const listed = jobRegistry.get(job.id)
  assert.ok(listed instanceof ArchivedJob, 'the ended job is listed as an ArchivedJob')
  assert.is.not(listed, job)
  assert.is(listed.status, 'finished')
  assert.is(listed.name, 'archived')
  assert.equal(listed.metrics(), result.metrics, 'the metrics it ended with')
  assert.equal(listed.checkpoints(), job.checkpoints())
  assert.equal(
    listed.vertices.map((v) => v.name),
    job.vertices.map((v) => v.name),
  )
  assert.equal(listed.queryables.names(), [], 'no state of the job is reachable from the registry')
  const outline = listed.vertices.flatMap((v) => v.nodes)
  assert.equal(
    outline.map((n) => n.uid),
    job.vertices.flatMap((v) => v.nodes).map((n) => n.uid),
  )
  assert.ok(
    outline.every((n) => n.source === undefined && n.createOperator === undefined),
    'no source and no operator factory (nor what they hold) is kept',
  )
  const keyed = listed.vertices.flatMap((v) => v.inputs).find((e) => e.partitioning.kind === 'hash')
  assert.ok(keyed !== undefined && outline.includes(keyed.from), 'the edges join the outline, partitioning kept')
  await listed.cancel()
  try {
    await listed.triggerSavepoint('/nowhere')
    assert.unreachable('a savepoint of an ended job')
  } catch (error) {
    assert.is((error as { code?: string }).code, 'ERR_JOB_NOT_RUNNING')
  }
})

test.run()
