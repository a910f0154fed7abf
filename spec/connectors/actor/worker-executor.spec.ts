import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { ActorSystem } from '../../../lib/actors/actor-system.js'
import { StreamEnvironment } from '../../../lib/api/stream-environment.js'
import { type ActorSinkMessage, actorSink, actorSource } from '../../../lib/connectors/actor/index.js'
import { CallbackSink } from '../../../lib/connectors/collections/callback-sink.js'
import { ConfigError } from '../../../lib/errors.js'

const Workers = suite('actor source and sink with the worker-thread executor')

const refused = (run: () => unknown, operator: string): ConfigError => {
  try {
    run()
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error))
    assert.is(error.option, 'executor.kind')
    assert.ok(error.message.includes(operator), error.message)
    assert.ok(error.message.includes('the thread that built the job'), error.message)
    return error
  }
  throw new Error('not refused')
}

Workers('an actor source is refused when the job is built, naming the operator and why', () => {
  const env = StreamEnvironment.create({ logLevel: 'silent', executor: { kind: 'workers', threads: 2 } })
  env.fromSource(actorSource<number>({}), { uid: 'orders' }).sinkTo(new CallbackSink(() => {}))
  const error = refused(() => env.executeAsync('actor source on workers'), 'actor-source')
  assert.ok(error.message.includes('uid orders'), error.message)
})

Workers('an actor sink is refused when the job is built; the same job on one thread is not', async () => {
  const system = new ActorSystem({ name: 'app' })
  try {
    const target = system.spawn<ActorSinkMessage<number>>(
      () => ({
        receive: (m) => {
          if (m.type === 'init' || m.type === 'record') m.replyTo.tell({ type: 'ack' })
        },
      }),
      { name: 'target' },
    )
    const build = (executor: 'workers' | 'single-thread') => {
      const env = StreamEnvironment.create({ logLevel: 'silent', executor: { kind: executor } })
      env.fromElements(1, 2, 3).sinkTo(actorSink({ target }))
      return env
    }
    refused(() => build('workers').executeAsync('actor sink on workers'), 'actor-sink')
    const { status } = await build('single-thread').executeAsync('actor sink on one thread').result
    assert.is(status, 'finished')
  } finally {
    await system.terminate()
  }
})

Workers.run()
